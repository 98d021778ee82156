# Entry points: `make chat` (installs what the page needs, then serves it), `make local-model`
# (adds the in-process llama.cpp model for the `local` answer mode) and `make test` (both, then
# the whole suite). Each creates .venv and installs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-llm
# llama.cpp built for a portable x86-64 CPU: the native build crashes (SIGILL) where AMX exists.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: install local-model chat test lint clean

# What the chat page, the API, the MCP tools and ingest need: no compiler involved.
install: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Accord needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

# The `local` answer mode: compiles llama.cpp (about 8 minutes on 2 cores; pip keeps the wheel).
local-model: $(LLM_STAMP)

$(LLM_STAMP): $(STAMP) requirements-llm.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -r requirements-llm.txt
	touch $(LLM_STAMP)

# Ingests corpus/ when the index is missing or stale, then serves http://127.0.0.1:7860
chat: install
	$(BIN)/python app.py $(ARGS)

# The suite runs the local model too, so the tests (and CI) install it.
test: install local-model
	$(BIN)/python -m pytest $(ARGS)

lint: install
	$(BIN)/ruff check bot evals tests ingest.py app.py

clean:
	rm -rf $(VENV) data test-output
