# Fresh machine: `make demo` (main job) and `make test` (test suite). Both run `setup` first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch/torchvision are pinned to the builds this project's machines keep on disk;
# on another machine any torch>=2.1 satisfies pyproject.toml.
TORCH  ?= torch==2.14.1 torchvision==0.29.1
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	$(BIN)/dfer demo

test: setup
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadgroup --durations=25

bench: setup
	$(BIN)/python bench/packed_store.py
	$(BIN)/python bench/train_step.py
	$(BIN)/python bench/preprocess.py
	$(BIN)/python bench/spot_eval.py
	$(BIN)/python bench/annotate_load.py

clean:
	rm -rf $(VENV) build *.egg-info
