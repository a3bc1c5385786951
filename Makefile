# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup browser run test test-slow lint benchmark clean

# torch==2.13.0 is installed first, on its own, so that no dependency pulls
# another (much larger) torch build; the project's declared range admits it.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
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
