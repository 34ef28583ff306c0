# kubeflow-pulumi: `make up` brings up the local cluster with KubeFlow on it;
# `make test` runs every test. Both work on a fresh machine after `make setup`
# (they run it themselves when needed).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
STACK ?= local
PYTHON ?= python3
VENV := .venv
ENV := source scripts/env.sh &&
NETNS := scripts/netns.sh
PYTEST := $(VENV)/bin/pytest

.PHONY: help setup venv policy-venv tools render-tools lint test test-fast test-integration test-e2e test-slow preview preview-stacks up \
	destroy \
	refresh outputs unlock lock pipelines bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: venv policy-venv tools ## install Python deps and build/find the engine, kustomize and helm, the local control plane

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[pipelines,test]'
	# Dynamic providers resolve Pulumi.yaml's relative virtualenv from the program folder
	# (main: infra/), the language host from the project folder: both must find it.
	ln -sfn ../$(VENV) infra/.venv
	touch $@

# The policy pack's own virtualenv (policy/requirements.txt; pulumi-policy needs protobuf 5).
policy-venv: policy/venv/.installed
policy/venv/.installed: policy/requirements.txt
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet -r policy/requirements.txt
	touch $@

tools: venv render-tools ## build (or find) pulumi, its plugins, the control-plane binaries and the KFP API server
	scripts/tools.sh
	scripts/kube-tools.sh >/dev/null
	scripts/kfp-tools.sh >/dev/null

# kustomize and helm render the pinned upstream (docs/upstream.md); the unit tests render local
# upstreams with them. About 90 s cold on 2 cores (2026-12-06), well under a second warm (docs/tools.md).
render-tools: ## build (or find) kustomize and helm from Go modules (scripts/render-tools.sh)
	scripts/render-tools.sh >/dev/null

lint: venv ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy components infra pipelines policy examples/serving/__main__.py tests

test-fast: venv render-tools ## the unit suite (mocks, no engine), under a minute
	$(PYTEST) -m "not integration and not e2e" -n 2 -q

test-integration: setup ## real Pulumi engine, render mode, no cluster
	$(ENV) $(NETNS) $(PYTEST) -m integration -q

test-e2e: setup ## real engine against a real kube-apiserver (loopback-only netns)
	$(ENV) $(NETNS) $(PYTEST) -m e2e -q

test-slow: setup ## integration, e2e and preview-stacks: the full-platform e2e module beside the rest (scripts/test-slow.sh)
	$(ENV) PYTEST=$(PYTEST) $(NETNS) scripts/test-slow.sh

# Stacks that preview with no network and no credentials. staging and prod render the
# pinned upstream from GitHub and need their clusters' kubeconfigs: they preview only where
# both are (a render cache filled outside the netns, docs/upstream.md). dev renders the pinned
# upstream too but needs no credentials: here it is previewed against the manifest mirror
# PREVIEW_MIRROR instead (MIRROR_PREVIEW_STACKS; scripts/preview.sh KUBEFLOW_PREVIEW_MIRROR),
# and its summary says what that does not show (docs/upstream.md, "Previews without the
# network").
OFFLINE_STACKS ?= ci dev local serving
MIRROR_PREVIEW_STACKS ?= dev
PREVIEW_MIRROR ?= ../shared/manifests

test: setup lint test-fast test-slow ## everything CI runs

preview-stacks: setup ## preview every stack that needs no credentials (dev: against the mirror)
	mkdir -p build/preview
	for stack in $(OFFLINE_STACKS); do \
		mirror=""; \
		if [[ " $(MIRROR_PREVIEW_STACKS) " == *" $$stack "* ]]; then mirror="$(PREVIEW_MIRROR)"; fi; \
		$(ENV) KUBEFLOW_PREVIEW_MIRROR="$$mirror" $(NETNS) scripts/preview.sh $$stack \
			>build/preview-$$stack.log 2>&1 \
			|| { tail -40 build/preview-$$stack.log; cat build/preview/$$stack.md 2>/dev/null; exit 1; }; \
		cat build/preview/$$stack.md; \
	done

preview: setup ## pulumi preview --diff of STACK, plus build/preview/STACK.md for pull requests
	$(ENV) $(NETNS) scripts/preview.sh $(STACK)

up: setup ## pulumi up STACK (default: local, the simulated cluster with KubeFlow)
	$(ENV) $(NETNS) scripts/stack.sh $(STACK) up --yes --skip-preview

destroy: setup ## pulumi destroy STACK (the local stack also stops its control plane, unless it keeps data)
	$(ENV) $(NETNS) scripts/stack.sh $(STACK) destroy --yes --skip-preview

refresh: setup ## pulumi refresh STACK
	$(ENV) $(NETNS) scripts/stack.sh $(STACK) refresh --yes --skip-preview

unlock: venv ## clear the state lock a killed pulumi left on STACK (FORCE=1: also one from another host)
	$(ENV) $(NETNS) $(VENV)/bin/python -m infra.state_lock $(STACK) $(if $(FORCE),--force)

# Renders the pinned upstream (with the network: not in the netns) and records the digests in
# components/data/upstream-lock.yaml; ARGS="--stack prod", "--check ...": docs/upstream.md.
lock: venv render-tools ## record what pinned upstream parts render to (ARGS="--stack prod"; docs/upstream.md)
	$(VENV)/bin/python -m components.lock $(ARGS)

outputs: ## stack outputs of STACK
	$(ENV) scripts/stack.sh $(STACK) stack output --json

pipelines: venv ## compile the example pipelines and run both locally (kfp.local, no cluster)
	$(VENV)/bin/python -m pipelines compile --out build/pipelines
	$(VENV)/bin/python -m pipelines run hello --name Tagore
	$(VENV)/bin/python -m pipelines run iris

bench: setup ## the full platform: pulumi against kubectl on the local cluster, registration against parse (build/bench/)
	$(ENV) $(NETNS) $(VENV)/bin/python tests/bench/bench_platform.py

clean: ## remove build output (not the state or the tools cache)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
