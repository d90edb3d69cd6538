# Everything runs in .venv, created on first use from python3 alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-postgres test-server test-versions test-dist dist demo lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check langchain_producer tests examples benchmarks scripts
	$(BIN)/ruff format --check langchain_producer tests examples benchmarks scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format langchain_producer tests examples benchmarks scripts
	$(BIN)/ruff check --fix langchain_producer tests examples benchmarks scripts

# Sockets may only reach loopback: the emulator's server and the notebook kernel live there.
# PostgreSQL and the Agent Server have targets of their own (each starts its server).
PYTEST := $(BIN)/pytest --allow-hosts=127.0.0.1,::1,localhost
test: lint
	$(PYTEST) -m "not postgres and not agent_server"

# A real PostgreSQL from the system's packages, started (as a non-root user) by the tests.
test-postgres: $(STAMP)
	$(PYTEST) -m postgres -rs tests/test_postgres.py

# LangGraph's Agent Server (`langgraph dev`) serving examples/server/ against the emulator.
$(VENV)/.installed-server: pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,server]'
	touch $@

test-server: $(VENV)/.installed-server
	PRODUCER_REQUIRE_AGENT_SERVER=1 $(PYTEST) -m agent_server -rs tests/test_agent_server.py

# The suite (as in `make test`, without the lint) on the lowest declared version of every runtime
# dependency and on the newest, each in a venv of its own (.venv-lowest, .venv-newest, reused
# while pyproject.toml is unchanged), each run printing its resolved set first; then on the newest
# with each other Python in VERSIONS_PYTHONS that this machine has (no registry offers one: see
# scripts/test_versions.py). Needs only the registries: the venvs are made with uv.
VERSIONS_PYTHONS ?= 3.12 3.13
# Every run goes, even after one fails; the target fails if any did.
test-versions: $(STAMP)
	failed=""; \
	$(BIN)/python scripts/test_versions.py lowest --python $(PYTHON) || failed="$$failed lowest"; \
	$(BIN)/python scripts/test_versions.py newest --python $(PYTHON) || failed="$$failed newest"; \
	for version in $(VERSIONS_PYTHONS); do \
		$(BIN)/python scripts/test_versions.py newest --python-version $$version \
			|| failed="$$failed newest-py$$version"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-versions failed:$$failed"; exit 1; fi

# A wheel and an sdist in dist/, checked by twine. `make test-dist` installs the wheel in a clean
# venv (nothing from the checkout) and runs the README's quickstart there (tests/test_dist.py).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --installer uv --outdir dist .
	$(BIN)/twine check --strict dist/*

test-dist: $(STAMP)
	$(PYTEST) -m dist -rs tests/test_dist.py

# The demo gets its own small venv: only the package and its `examples` extra, no test tools.
DEMO_VENV ?= .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

$(DEMO_VENV)/bin/python:
	$(PYTHON) -m venv $(DEMO_VENV)

$(DEMO_STAMP): pyproject.toml | $(DEMO_VENV)/bin/python
	$(DEMO_VENV)/bin/python -m pip install --quiet -e '.[examples]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(DEMO_VENV)/bin/python examples/quickstart.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/resume.py

clean:
	rm -rf $(VENV) $(DEMO_VENV) .venv-lowest* .venv-newest* dist out .pytest_cache .mypy_cache .ruff_cache
