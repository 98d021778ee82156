# Two entry points: `make chat` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama.cpp built for a portable x86-64 CPU: the native build crashes (SIGILL) where AMX exists.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: install chat test lint clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-llm.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Accord needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -r requirements.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -r requirements-llm.txt
	touch $(STAMP)

# Ingests corpus/ when the index is missing or stale, then serves http://127.0.0.1:7860
chat: install
	$(BIN)/python app.py $(ARGS)

test: install
	$(BIN)/python -m pytest $(ARGS)

lint: install
	$(BIN)/ruff check bot evals tests ingest.py app.py

clean:
	rm -rf $(VENV) data test-output
