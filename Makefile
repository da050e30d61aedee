# fcnet: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TESTSTAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,search,export,tensorboard,playground,exercise]'
	touch $(TESTSTAMP)

## demo: create .venv, install fcnet, train on the embedded digits data set, print test accuracy
demo: $(STAMP)
	$(BIN)/fcnet train --data digits --hidden 128 --epochs 30 --optimizer adam --lr 1e-3 \
		--batch-size 64 --seed 0 --out runs/demo --overwrite

## test: install the test extras (PyTorch as the oracle) and run the whole suite
test: $(TESTSTAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

lint: $(TESTSTAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(TESTSTAMP)
	$(BIN)/fcnet bench

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
