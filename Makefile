# Two entry points: `make chat` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install chat test lint clean

install: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Accord needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -r requirements.txt
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
