# Two commands matter: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-dev assets demo serve test lint typecheck pytest pytest-sqlite \
	pytest-postgresql chromium pdf-libs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets
install-dev: $(VENV)/.installed-dev assets

# HTMX and Swagger UI come from the npm registry at install time; pages still work (without live
# search and progress polling) and the API docs page says how to get its viewer if npm is missing.
SWAGGER_UI := api/static/swagger
assets: web/static/vendor/htmx.min.js $(SWAGGER_UI)/swagger-ui-bundle.js
node_modules/.installed: package.json
	@if command -v npm >/dev/null; then \
		npm install --no-audit --no-fund --silent && touch $@; \
	else echo "warning: npm not found, HTMX and Swagger UI not installed"; fi
web/static/vendor/htmx.min.js: node_modules/.installed
	@mkdir -p web/static/vendor
	@if [ -f node_modules/htmx.org/dist/htmx.min.js ]; then \
		cp node_modules/htmx.org/dist/htmx.min.js $@; fi
$(SWAGGER_UI)/swagger-ui-bundle.js: node_modules/.installed
	@mkdir -p $(SWAGGER_UI)
	@if [ -d node_modules/swagger-ui-dist ]; then \
		cp node_modules/swagger-ui-dist/swagger-ui-bundle.js \
			node_modules/swagger-ui-dist/swagger-ui.css \
			node_modules/swagger-ui-dist/favicon-32x32.png $(SWAGGER_UI)/; fi

demo: install pdf-libs
	$(BIN)/symbiose db upgrade
	$(BIN)/symbiose demo
	$(BIN)/symbiose serve

serve: install
	$(BIN)/symbiose serve

# Browser tests drive Debian's Chromium; never a downloaded browser.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# WeasyPrint (the contracts' PDFs) needs Pango and a font, from Debian's packages.
pdf-libs:
	@ldconfig -p | grep -q libpangoft2-1.0 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
		libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy .

# The suite always runs on SQLite; it runs again on PostgreSQL when SYMBIOSE_TEST_DATABASE_URL is
# set (the Celery tests use a real worker when SYMBIOSE_TEST_BROKER_URL is set). The two passes run
# at once, each printed whole when it ends; `make pytest` fails if either fails. A worker takes
# whatever is on its queue, so at once only with a broker per pass: the SQLite pass's Celery tests
# use SYMBIOSE_TEST_SQLITE_BROKER_URL, else SYMBIOSE_TEST_BROKER_URL and the passes take turns.
SQLITE_BROKER_URL := $(or $(SYMBIOSE_TEST_SQLITE_BROKER_URL),$(SYMBIOSE_TEST_BROKER_URL))
ifneq ($(SYMBIOSE_TEST_BROKER_URL),)
ifeq ($(SQLITE_BROKER_URL),$(SYMBIOSE_TEST_BROKER_URL))
pytest-postgresql: pytest-sqlite
endif
endif
# Each target's output is printed whole when it ends, so the passes' lines do not interleave.
AT_ONCE := $(MAKE) --no-print-directory -j3 --output-sync=target

pytest:
	@$(AT_ONCE) pytest-sqlite pytest-postgresql

pytest-sqlite: install-dev chromium pdf-libs
	env -u SYMBIOSE_TEST_DATABASE_URL SYMBIOSE_TEST_BROKER_URL='$(SQLITE_BROKER_URL)' $(BIN)/pytest

pytest-postgresql: install-dev pdf-libs
	@if [ -n "$$SYMBIOSE_TEST_DATABASE_URL" ]; then \
		$(BIN)/pytest -m "not browser and not fuzz" -o cache_dir=.pytest_cache/postgresql; fi

# Lint first (a second); the type check then runs beside the tests.
test: lint
	@$(AT_ONCE) typecheck pytest-sqlite pytest-postgresql

bench: install-dev
	$(BIN)/python -m bench.import_bench

clean:
	rm -rf $(VENV) node_modules web/static/vendor $(SWAGGER_UI) var/*.db .pytest_cache .mypy_cache .ruff_cache
