# Rempart: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test check install install-test system-deps lint typecheck bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Reinstall when the project's metadata changes.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[postgres,dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: create the venv, install, start the platform with demo data.
demo: install
	$(VENV)/bin/rempart demo

## System packages the tests need (PostgreSQL server...), only where missing.
system-deps:
	bash scripts/install-system-deps.sh

## Node packages of the test OpenID provider (tests/oidc), reinstalled when the lock changes.
OIDC_STAMP := tests/oidc/node_modules/.installed
$(OIDC_STAMP): tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
	touch $(OIDC_STAMP)

## make test: install everything the tests need, then run the whole suite.
test: install system-deps $(OIDC_STAMP)
	@set +e; $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no test"; exit 0; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

## make check: ruff and mypy --strict.
check: lint typecheck

## make bench: every benchmark script (see benchmarks/README.md), with its ratio.
BENCHES := vault.py audit.py detection.py bench_identity.py access.py ingest.py
bench: install
	$(PIP) install --quiet -r benchmarks/access/requirements.txt \
		-r benchmarks/detection/requirements.txt
	@for f in $(BENCHES); do echo "== benchmarks/$$f"; $(PY) benchmarks/$$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
