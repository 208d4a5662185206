# Everything runs inside .venv, created on first use from python3.11 (or python3).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TORCH_WHEEL := /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
TORCH := $(if $(wildcard $(TORCH_WHEEL)),$(TORCH_WHEEL),torch)

.PHONY: demo test lint bench eval realruns families goldens mutate fuzz clean chromium

$(BIN)/losstest: pyproject.toml losstest/readers/_tfevents.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/losstest
	@$(BIN)/losstest analyze sample_logs/ --plot-dir sample_logs/plots; status=$$?; \
	echo "losstest exited $$status (1: a run failed, as four of the sample logs should); plots in sample_logs/plots/"; \
	test $$status -le 1

# Tests that train through torch, transformers and lightning run where the CPU wheel of torch is
# at hand (never the multi-GB GPU build); elsewhere they skip.
$(BIN)/torch-if-local: $(BIN)/losstest
ifneq ($(wildcard $(TORCH_WHEEL)),)
	$(BIN)/python -m pip install --quiet '$(TORCH_WHEEL)'
	$(BIN)/python -m pip install --quiet -e '.[test,integrations]'
else
	@echo "no local torch wheel: the torch, transformers and lightning tests will be skipped"
endif
	touch $@

# The HTML tests drive Debian's chromium (playwright never downloads a browser here); installed
# where we are root with apt, else those tests skip and say why.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	  echo "no chromium: the HTML page tests will be skipped"

test: $(BIN)/torch-if-local chromium
	$(BIN)/python -m pytest

# Before a release: 10,000 damaged logs per format of the readers' registry and through the
# command line, each in its own process, with a fresh seed each run; FUZZ_FORMATS narrows it
# (e.g. make fuzz FUZZ_FORMATS='csv command-line' FUZZ_EXAMPLES=2000). Prints the tally of
# fuzz-tally/; inputs that broke the contract are kept under fuzz-found/: add each to
# tests/data/bad/ with its EXPECTED.json entry.
FUZZ_EXAMPLES ?= 10000
FUZZ_FORMATS ?= $(shell $(BIN)/python -c 'from losstest.readers import READERS; print(*READERS)') command-line
fuzz: $(BIN)/losstest
	@status=0; for format in $(FUZZ_FORMATS); do \
	  case $$format in command-line) test=test_command_line_exits_0_1_with_json_or_2_with_one_line;; \
	    *) test="test_damaged_logs_of_every_format[$$format]";; esac; \
	  LOSSTEST_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) LOSSTEST_FUZZ_LONG=1 LOSSTEST_FUZZ_TALLY=fuzz-tally/$$format.json nice -n 19 \
	    $(BIN)/python -m pytest -q -p no:cacheprovider "tests/test_fuzz.py::$$test" || status=1; \
	done; $(BIN)/python tests/fuzzing/tally.py $(foreach f,$(FUZZ_FORMATS),fuzz-tally/$(f).json); \
	exit $$status

# Write tests/golden anew after a deliberate change of an output format; review the diff.
goldens: $(BIN)/losstest
	$(BIN)/python tests/goldens.py

# Mutation testing of the checks, the text readers, curve building and exit codes (slow: not in
# CI; each mutant runs the tests of its own module: tests/MUTATION.md). MUTANTS narrows it to
# some modules, e.g. make mutate MUTANTS='losstest.checks.nan.* losstest.exit_codes.*'
MUTANTS ?= losstest.checks.* losstest.readers.jsonl.* losstest.readers.csv.* losstest.readers.text.* \
	losstest.readers._table.* losstest.readers._json.* losstest.curves.* losstest.engine.* \
	losstest.exit_codes.*
mutate: $(BIN)/losstest
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	nice -n 19 $(BIN)/mutmut run $(foreach m,$(MUTANTS),'$(m)')
	$(BIN)/python tests/mutation_scores.py

lint: $(BIN)/losstest
	$(BIN)/ruff check losstest tests bench docs
	$(BIN)/ruff format --check losstest tests bench docs

bench: $(BIN)/losstest
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py

eval: $(BIN)/losstest
	$(BIN)/python bench/realruns/evaluate.py

# Retrain the tiny models behind tests/data/realruns (a few minutes on 2 cores).
realruns: $(BIN)/losstest
	$(BIN)/python -m pip install --quiet '$(TORCH)'
	$(BIN)/python bench/realruns/train.py bench/out/realruns
	for f in bench/out/realruns/*/metrics.jsonl; do cp $$f tests/data/realruns/$$(basename $$(dirname $$f)).jsonl; done

# Retrain the runs of other model families behind tests/data/families through their real tools
# (Keras, Lightning, the Hugging Face Trainer, tensorboardX, MLflow; ~10-20 min on 2 cores).
families: $(BIN)/losstest
	$(BIN)/python -m pip install --quiet '$(TORCH)'
	$(BIN)/python -m pip install --quiet -e '.[families]'
	$(BIN)/python bench/families/make_all.py --out bench/out/families --data tests/data/families

clean:
	rm -rf $(VENV) build *.egg-info
