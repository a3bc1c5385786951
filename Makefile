# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup browser run test test-oldest test-slow lint benchmark clean

# pip installs torch==2.13.0 first, so that no dependency pulls another (much larger)
# torch build; the project's declared range admits it, so what comes after keeps it.
# uv installs the rest: the same versions pip would resolve, in seconds where pip takes
# about a minute and a half (with the system's certificates, as pip; should uv fail to
# reach the index, pip installs the rest as before).
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0 uv
	$(BIN)/uv pip install --quiet --native-tls --python $(BIN)/python -e ".[dev]" || \
		$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The report's tests look at pages as a person would, in Debian's headless Chromium.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

setup: $(BIN)/.installed

run: setup
	$(BIN)/discovery run campaigns/crossed_barrel.py

test: setup browser lint
	$(BIN)/python -m pytest

# The suite again with the oldest versions pyproject.toml admits (and the packages those
# need), put ahead of the environment's own by PYTHONPATH: .venv itself is left alone.
OLDEST := numpy==1.26.4 pandas==2.2.3 pytz==2026.6 tzdata==2026.6 scikit-learn==1.3.2 \
	pyarrow==17.0.0 botorch==0.12.0 gpytorch==1.13 linear-operator==0.5.3 \
	jaxtyping==0.2.19 typeguard==2.13.3 pyro-ppl==1.9.1 pyro-api==0.1.2 opt-einsum==3.4.0 \
	lazy_loader==0.4 scipy==1.10.1
# TESTS narrows it (CI runs the store's, the resumes' and most multi-objective tests this way).
TESTS ?=
test-oldest: setup browser
	$(BIN)/pip install --quiet --no-deps --upgrade --target .oldest $(OLDEST)
	PYTHONPATH=.oldest $(BIN)/python -m pytest $(TESTS)

test-slow: setup browser
	$(BIN)/python -m pytest -m slow

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

benchmark: setup
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache
