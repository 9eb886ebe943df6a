# Two commands do all the set-up on a machine with only python3 and git:
#   make demo   create the virtualenv, install the locked set, run the demo pipeline
#   make test   the same install, then lint, type checks and the whole test suite
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install browser postgres demo demo-base pythons test lint pytest bench drill clean fernet-key

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/ingest demo

# the demo on what `pip install creator-metrics-ingest` gives a file-only user: no extras (no
# Airflow, DuckLake wheels or BI drivers) and no dev tools, in a virtualenv of its own
demo-base: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV)-base $(UV) sync --frozen --no-dev --python $(PYTHON)
	$(VENV)-base/bin/ingest demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# the report test screenshots the HTML report with Debian's Chromium (CI runs as root)
browser:
	command -v chromium >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends chromium)

# the DuckLake tests start a throwaway PostgreSQL cluster from the server binaries
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends postgresql)

pytest: install browser postgres
	$(VENV)/bin/pytest

# the demo on the other supported Pythons this machine has (file-only install; says which it found)
pythons: $(UV)
	.ci/demo-pythons 3.12 3.13

test: lint pythons pytest

# not part of test: generates a few GB of inputs and takes up to 20 minutes on 2 cores
bench: install
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf $(VENV) $(VENV)-base $(TOOLS) warehouse landing staging demo-data

# the long reliability drills: many more crash trials on a bigger input, more fuzz examples,
# more concurrent backfill trials on a real Airflow
drill: install postgres
	DRILL_TRIALS=200 DRILL_ROWS=20000 DRILL_FUZZ_EXAMPLES=2000 $(VENV)/bin/pytest tests/drills
	DRILL_AIRFLOW_TRIALS=10 $(VENV)/bin/pytest tests/e2e/test_airflow_real.py -k concurrent

# docker-compose refuses to start without a Fernet key (Airflow would keep the platform tokens in
# plaintext): `make fernet-key >> .env` writes a fresh one
fernet-key:
	@$(PYTHON) -c "import base64, os; print('AIRFLOW_FERNET_KEY=' + base64.urlsafe_b64encode(os.urandom(32)).decode())"
