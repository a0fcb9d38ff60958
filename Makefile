# Everything runs from a project-local virtual environment, created or refreshed on demand,
# so a fresh clone needs nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv run test test-plugin test-plugin-browser test-plugin-ui soak e2e peers test-real record-headlamp cluster bench bench-real bench-heal lint deploy undeploy image clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml testing/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]' -e ./testing
	touch $(STAMP)

venv: $(STAMP)  ## create the virtual environment with the project and its test/dev extras

run: $(STAMP)  ## the embedded sandbox: in-memory Kubernetes + Headlamp emulator + the operator
	$(BIN)/headlamp-operator-sandbox

test: test-plugin $(STAMP)  ## everything that needs no real cluster: the plugin's checks first, then pytest
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The Headlamp plugin (plugin/, TypeScript, @kinvolk/headlamp-plugin): a clean install from package-lock.json (no
# browser download: none can be fetched here), type check, lint, its vitest tests (CI=true: one run, not watch
# mode), then the production build, plugin/dist/main.js. `npm run package` in plugin/ makes the archive.
PLUGIN_NPM_ENV := PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1

test-plugin:  ## the Headlamp plugin: npm ci, tsc, lint, its unit tests (vitest), build
	cd plugin && $(PLUGIN_NPM_ENV) npm ci --no-audit --no-fund && npm run tsc && npm run lint && CI=true npm test && npm run build

# The plugin's views in a real browser (plugin/browser/stories.browser.mjs): its Storybook build (the views with Headlamp's
# real components, the API answered with bodies read from a real API server) opened in Debian's Chromium, driven by
# playwright-core (no browser download: the system's, installed here if missing); screenshots to docs/images/plugin/.
CHROMIUM ?= $(shell command -v chromium 2>/dev/null || echo /usr/bin/chromium)

test-plugin-browser:  ## the plugin's stories in a real Chromium: what they show, RBAC, no plugin error; screenshots
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-liberation)
	cd plugin && { test -d node_modules/playwright-core -a -x node_modules/.bin/storybook || $(PLUGIN_NPM_ENV) npm ci --no-audit --no-fund; } \
		&& npm run storybook-build && CHROMIUM=$(CHROMIUM) node --test browser/stories.browser.mjs

# The plugin in the real Headlamp web UI, driven by headless Chromium (tests/plugin_ui/): the real-peer world with
# the real headlamp-server serving a built Headlamp frontend (HEADLAMP_UI: the folder with index.html, built from
# kubernetes-sigs/headlamp's frontend/) with plugin/dist/main.js in its plugins folder. Both are the person's.
ifneq ($(filter test-plugin-ui,$(MAKECMDGOALS)),)
ifeq ($(strip $(HEADLAMP_UI)),)
$(error make test-plugin-ui: set HEADLAMP_UI to a built Headlamp frontend (a folder with index.html))
endif
ifeq ($(strip $(HEADLAMP_SERVER)),)
$(error make test-plugin-ui: set HEADLAMP_SERVER to a headlamp-server binary)
endif
endif

test-plugin-ui: $(STAMP) peers  ## the plugin in the real Headlamp UI (HEADLAMP_UI=frontend HEADLAMP_SERVER=binary), headless Chromium
	cd plugin && $(PLUGIN_NPM_ENV) npm ci --no-audit --no-fund && npm run build
	REAL_PEERS=1 HEADLAMP_UI=$(HEADLAMP_UI) HEADLAMP_SERVER=$(HEADLAMP_SERVER) $(BIN)/python -m pytest -p tests.harness.realpeers.plugin -m plugin_ui $(PYTEST_ARGS)

# The fault soak: SOAK_SECONDS of random faults, then every resource must converge. An empty SOAK_SEED
# draws one; the soak prints it, and SOAK_SEED=<it> replays the same faults on the same resources.
SOAK_SECONDS ?= 180
SOAK_SEED ?=
SOAK_ARGS ?=

soak: $(STAMP)  ## random faults for SOAK_SECONDS (180), then every resource must converge; SOAK_SEED replays a run
	$(BIN)/python -m headlamp_operator_testing.soak --seconds $(SOAK_SECONDS) $(if $(SOAK_SEED),--seed $(SOAK_SEED)) $(SOAK_ARGS)

peers:  ## build kube-apiserver, etcd, kwok, kubectl, kstatus from Go modules into ~/.cache/headlamp-operator/peers
	$(PYTHON) peers/build.py

test-real: $(STAMP) peers  ## the real-peer suite: real kube-apiserver + etcd + kwok, the product installed, the e2e scenarios too
	REAL_PEERS=1 $(BIN)/python -m pytest -p tests.harness.realpeers.plugin -m "realpeers or e2e" $(PYTEST_ARGS)

# A real headlamp-server's answers to a fixed script, written to tests/kit/headlamp/transcripts/ (make test replays
# them against the emulator). The binary is the person's: HEADLAMP_SERVER=/path/to/headlamp-server.
record-headlamp: $(STAMP) peers  ## record a real headlamp-server (HEADLAMP_SERVER=path) into tests/kit/headlamp/transcripts/
	$(BIN)/python -m tests.harness.realpeers.record $(if $(HEADLAMP_SERVER),--headlamp-server $(HEADLAMP_SERVER)) $(RECORD_ARGS)

cluster: $(STAMP) peers  ## a real control plane on loopback for a person (CLUSTER_ARGS=--product: with the operator)
	$(BIN)/python -m headlamp_operator_testing.realpeers $(CLUSTER_ARGS)

e2e: $(STAMP)  ## the same scenarios against a real cluster (E2E_KUBECONFIG, E2E_HEADLAMP_URL)
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# The operator as the image installs it (pip install ., no extras): what make bench measures.
RUNTIME := .venv-runtime

bench: $(STAMP)  ## the benchmark: figures printed and written to bench/results.json and bench/results.png
	$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[bench]'
	test -x $(RUNTIME)/bin/python || $(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/python -m pip install --quiet --disable-pip-version-check .
	$(BIN)/python -m bench --operator $(RUNTIME)/bin/headlamp-operator --keep-logs bench/logs $(BENCH_ARGS)

bench-real: $(STAMP) peers  ## the same bursts on a real kube-apiserver + etcd + kwok: under real_api in bench/results.json
	$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[bench]'
	test -x $(RUNTIME)/bin/python || $(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/python -m pip install --quiet --disable-pip-version-check .
	$(BIN)/python -m bench --real-api --operator $(RUNTIME)/bin/headlamp-operator --keep-logs bench/logs $(BENCH_ARGS)

# HEADLAMP_SERVER=/path/to/headlamp-server: the real backend instead of the emulator, as make test-real takes it.
bench-heal: $(STAMP) peers  ## time until a forward's traffic is back after its pod dies, real control plane: under heal
	test -x $(RUNTIME)/bin/python || $(PYTHON) -m venv $(RUNTIME)
	$(RUNTIME)/bin/python -m pip install --quiet --disable-pip-version-check .
	$(BIN)/python -m bench --heal --operator $(RUNTIME)/bin/headlamp-operator --keep-logs bench/logs $(BENCH_ARGS)

lint: $(STAMP)  ## ruff, mypy --strict, import-linter layering
	$(BIN)/ruff check operator testing tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

deploy:  ## install into the cluster of the current kubeconfig (one step, also on an empty cluster)
	kubectl apply -k manifests/

undeploy:
	kubectl delete -k manifests/

image:  ## build the container image (needs a Docker engine)
	docker build -t headlamp-operator:latest .

clean:
	rm -rf $(VENV) $(RUNTIME) .pytest_cache .mypy_cache .ruff_cache *.egg-info operator/*.egg-info
