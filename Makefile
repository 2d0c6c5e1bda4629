# sentiment-cli: two commands on a fresh machine with Python 3.11.
#   make demo   set up .venv, predict with the built-in model, then train on
#               data/sample_tweets.csv, evaluate, predict
#   make test   set up .venv and run the test suite

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := runs/demo

.PHONY: demo test test-slow lint bench probes encoder builtin clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# setuptools notes on every editable install of a package beside its sources that such
# folders may shadow it ("Editable installation", a UserWarning): not a problem here, so
# not shown. A plain `pip install .` prints no warning (tests/test_wheel.py checks).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sentiment-cli predict "I love it" "worst. day. ever." "not bad at all"
	$(BIN)/sentiment-cli split data/sample_tweets.csv --output-dir $(DEMO)/data --test-size 0.2
	$(BIN)/sentiment-cli train $(DEMO)/data/train.csv --output-dir $(DEMO)/model --force
	$(BIN)/sentiment-cli evaluate --model-dir $(DEMO)/model $(DEMO)/data/test.csv
	$(BIN)/sentiment-cli predict --model-dir $(DEMO)/model \
		"Just got the job!!! Sooo happy right now 😍 #blessed" \
		"not bad at all, actually pretty good" \
		"my flight got cancelled again. thanks a lot @airline 🙄" \
		"The council meets on Tuesday at 7pm to discuss the budget"

# pytest exits 5 when it collects no test: here that is a failure, as it should be.
test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# ruff; the layers declared in pyproject.toml (import-linter); the docs site, whose
# broken links and missing pages fail the build.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

# Bytecode first, as a pip install writes it: the timed processes do not compile sources.
bench: $(STAMP)
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m compileall -q sentiment_cli
	$(BIN)/python bench/run.py

probes: $(STAMP)
	$(BIN)/python bench/make_probes.py

# Rebuild sentiment_cli/encoders/tweets (needs ../shared/data; about 3 minutes on 2 cores).
encoder: $(STAMP)
	$(BIN)/python bench/build_encoder.py

# Rebuild sentiment_cli/builtin, the model used when no model folder is given (needs
# ../shared/data; about 9 minutes on 2 cores).
builtin: $(STAMP)
	$(BIN)/python bench/build_builtin.py

clean:
	rm -rf runs site .pytest_cache .ruff_cache
