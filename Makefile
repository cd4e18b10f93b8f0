# Driftwarden: the two commands are `make run` and `make test`. Both install what is missing first
# (`make setup`), on Debian/Ubuntu, as root or with sudo.
#
# Everything builds with the dev profile (crypto dependencies are optimised by profile overrides in
# Cargo.toml), so `make test` compiles each crate once.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

CARGO ?= cargo
NPM ?= npm
APP := $(or $(CARGO_TARGET_DIR),target)/debug/driftwarden-desktop

# System packages: WebKitGTK and friends to build the desktop app; Xvfb, WebKitWebDriver and
# ImageMagick to run and test it headless; poppler-utils and minisign to check reports and signatures.
APT_PACKAGES := \
	build-essential pkg-config curl wget file \
	libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
	xvfb xauth webkit2gtk-driver imagemagick \
	poppler-utils minisign

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Prints a banner for one step.
banner = printf '\n==> %s\n' "$(1)"

.PHONY: help setup setup-apt setup-npm setup-tools ui bindings run build test e2e screenshots unit clean

help:
	@echo 'make run    install what is missing, build, and open the desktop app'
	@echo 'make test   install what is missing, then format/lint/build/test everything, incl. end-to-end'
	@echo 'make setup  only install what is missing (apt packages, npm packages, tauri-driver)'
	@echo 'make ui     build the front end into ui/dist'
	@echo 'make e2e    run the WebDriver tests against target/debug/driftwarden-desktop under Xvfb'
	@echo 'make unit   type-check, lint and unit-test the front end (Vitest)'
	@echo 'make startup  print the release build launch-to-unlock time and idle memory; with'
	@echo '              DRIFTWARDEN_STARTUP_REGISTRY=DIR and DRIFTWARDEN_STARTUP_PASSPHRASE also the first'
	@echo '              view after unlock and the memory with that registry open (use a copy: opening sweeps)'
	@echo 'make bindings  regenerate the TypeScript bindings (ui/src/lib/bindings) from the Rust types'
	@echo 'make screenshots  refresh docs/screenshots/*.png from the built app under Xvfb'
	@echo 'make fuzz   run every fuzz target for FUZZ_SECONDS (default 600) each'
	@echo 'make deny   cargo deny: licenses, bans, sources (offline)'
	@echo 'make bench  the scale benchmark suite (BENCH_SCALE=1 for the full 10,000-model registry)'

## setup: idempotent; installs only what is missing.
setup: setup-apt setup-npm setup-tools

setup-apt:
	@$(call banner,setup: system packages)
	@command -v dpkg-query >/dev/null || { echo 'setup needs a Debian/Ubuntu system (dpkg, apt-get)'; exit 1; }
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
		status=$$(dpkg-query -W -f='$${db:Status-Status}' "$$pkg" 2>/dev/null || true); \
		[ "$$status" = installed ] || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "all present"; \
	else \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -q; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# npm ci only when node_modules is missing or older than the lockfile.
setup-npm:
	@$(call banner,setup: npm packages)
	@command -v node >/dev/null && command -v $(NPM) >/dev/null || { echo 'Node.js 20.19+ and npm are needed (not found on PATH)'; exit 1; }
	@for dir in ui tests/e2e; do \
		if [ ! -d "$$dir/node_modules" ] || [ "$$dir/package-lock.json" -nt "$$dir/node_modules/.package-lock.json" ]; then \
			echo "npm ci in $$dir"; \
			$(NPM) --prefix "$$dir" ci --no-audit --no-fund; \
		else \
			echo "$$dir: up to date"; \
		fi; \
	done

setup-tools:
	@$(call banner,setup: tools)
	@command -v $(CARGO) >/dev/null || { echo 'Rust (cargo) is needed; install it with rustup'; exit 1; }
	@if command -v tauri-driver >/dev/null; then \
		echo "tauri-driver: $$(command -v tauri-driver)"; \
	else \
		echo "installing tauri-driver"; \
		$(CARGO) install tauri-driver --locked --version '^2'; \
	fi

## setup-test-tools: what only `make test` needs (cargo-deny; scripts/fuzz.sh installs cargo-fuzz).
.PHONY: setup-test-tools
setup-test-tools:
	@$(call banner,setup: test tools)
	@if command -v cargo-deny >/dev/null; then \
		echo "cargo-deny: $$(command -v cargo-deny)"; \
	else \
		echo "installing cargo-deny"; \
		$(CARGO) install cargo-deny --locked; \
	fi

## ui: the front end, needed before any compile of the app crate (generate_context! reads ui/dist).
ui: setup-npm
	@$(call banner,ui: npm run build)
	$(NPM) --prefix ui run build

## bindings: `cargo test` writes the TypeScript bindings of every #[ts(export)] type.
bindings: ui
	@$(call banner,bindings: cargo test --workspace)
	$(CARGO) test --workspace

build: setup ui
	@$(call banner,build: cargo build (desktop app and CLI))
	$(CARGO) build -p driftwarden-desktop -p driftwarden-cli

## run: build and open the desktop app.
run: build
	@$(call banner,run: $(APP))
	$(APP)

## test: everything CI checks, in order.
test: setup setup-test-tools ui
	@$(call banner,test: cargo fmt --check)
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml --check
	@$(call banner,test: cargo deny (licenses, bans, sources))
	@$(MAKE) deny
	@$(call banner,test: cargo clippy -D warnings)
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@$(call banner,test: cargo build)
	$(CARGO) build --workspace
	@$(call banner,test: cargo test)
	$(CARGO) test --workspace
	@$(call banner,test: fuzz smoke run (20 s per parser))
	scripts/fuzz.sh 20
	@$(call banner,test: TypeScript bindings are up to date)
	@if ! git diff --exit-code --stat -- ui/src/lib/bindings; then \
		echo 'ui/src/lib/bindings is stale: run `cargo test` and commit the result'; exit 1; \
	fi
	@untracked=$$(git status --porcelain --untracked-files=all -- ui/src/lib/bindings); \
	if [ -n "$$untracked" ]; then \
		echo "$$untracked"; echo 'ui/src/lib/bindings has uncommitted files: run `cargo test` and commit them'; exit 1; \
	fi; \
	echo "bindings up to date"
	@$(call banner,test: svelte-check)
	$(NPM) --prefix ui run check
	@$(call banner,test: eslint)
	$(NPM) --prefix ui run lint
	@$(call banner,test: vitest (front-end view logic))
	$(NPM) --prefix ui test
	@$(MAKE) e2e-only

## unit: the front end's unit tests (Vitest), type check and lint; no Rust build needed.
unit: setup-npm
	@$(call banner,unit: svelte-check + eslint + vitest)
	$(NPM) --prefix ui run check
	$(NPM) --prefix ui run lint
	$(NPM) --prefix ui test

## e2e: the WebDriver tests against the built app, under Xvfb.
e2e: setup ui
	@$(call banner,e2e: cargo build -p driftwarden-desktop)
	$(CARGO) build -p driftwarden-desktop
	@$(MAKE) e2e-only

.PHONY: e2e-only
e2e-only:
	@$(call banner,e2e: WebDriver tests under Xvfb)
	rm -rf tests/e2e/artifacts
	xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' $(NPM) --prefix tests/e2e test

## screenshots: docs/screenshots/*.png (first run, home, model page with drift chart, approval form,
## exception form) from the built app, on the sample registry. SCREENSHOTS_EXTRA=DIR adds more.
screenshots: build
	@$(call banner,screenshots)
	xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' node tests/e2e/screenshots.mjs

## startup: the release build's launch-to-unlock-screen time and idle memory, under Xvfb; with
## DRIFTWARDEN_STARTUP_REGISTRY (+ _PASSPHRASE, _MEMBER) also time to Home and memory with it open.
.PHONY: startup
startup: setup ui
	@$(call banner,startup: cargo build --release -p driftwarden-desktop)
	$(CARGO) build --release -p driftwarden-desktop
	xvfb-run -a -s '-screen 0 1280x800x24 -nolisten tcp' node tests/e2e/startup.mjs

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules tests/e2e/node_modules tests/e2e/artifacts gen

## Benchmarks (release builds; not part of make test). Each prints its figures.
.PHONY: bench-ingest bench-nhi
bench-ingest: setup
	$(CARGO) build --release -p driftwarden-cli
	python3 scripts/bench_ingest.py

bench-nhi: setup
	$(CARGO) build --release -p driftwarden-cli
	python3 scripts/bench_nhi_import.py

## bench-drift: `driftwarden drift` vs Evidently's DataDriftPreset and numpy/scipy (1,000,000 rows x 20 columns)
.PHONY: bench-drift
bench-drift:
	$(CARGO) build --release -p driftwarden-cli
	DRIFTWARDEN_BIN=$(or $(CARGO_TARGET_DIR),target)/release/driftwarden python3 scripts/bench_drift.py

## fuzz: every fuzz target for FUZZ_SECONDS each (default 600); prints executions and crashes per target.
.PHONY: fuzz
fuzz:
	scripts/fuzz.sh $(or $(FUZZ_SECONDS),600)

## deny: licenses, bans and sources of the dependency tree, offline. The advisory check needs the
## RustSec database from github.com, which this project's machines cannot reach: `make deny-advisories`.
.PHONY: deny deny-advisories
deny:
	cargo deny --offline check --hide-inclusion-graph licenses bans sources
deny-advisories:
	cargo deny check advisories

## bench: the scale benchmark (release): seeds once (cached in target/bench-scale/) a registry of
## 10,000 models, 100,000 NHIs, 5,000,000 measurements and 1,000,000 audit events, then prints
## unlock, the interactive queries (p50/p95), sweep, verification, ingest, audit packs and peak
## memory, on SQLCipher and on an unencrypted copy. BENCH_SCALE=0.1 for a quick run.
.PHONY: bench
bench:
	python3 scripts/bench_scale.py
