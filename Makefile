# Berth — two commands for a fresh machine: `make run` and `make test`.
# Build caches live outside the clone so repeat runs take seconds.
SHELL := /bin/bash
export BERTH_CACHE ?= /var/cache/berth
export CARGO_TARGET_DIR ?= $(BERTH_CACHE)/target
export WEB_TARGET_DIR ?= $(BERTH_CACHE)/target-web
export PATH := $(HOME)/.cargo/bin:$(PATH)

UI_SRC := $(shell find frontend/src frontend/static shared/src -type f 2>/dev/null) \
          frontend/index.html frontend/Cargo.toml frontend/Cargo.lock shared/Cargo.toml

.PHONY: run test setup build ui lint stop bench fuzz clean-cache

## run: install what is missing, build (release), start the daemon, print the dashboard URL
run: setup build ui
	@bash scripts/run.sh

## test: every test: unit, integration (real daemon, docker CLI, skopeo) and browser
test: setup ui
	@bash scripts/test.sh

setup:
	@bash scripts/setup.sh

build:
	cargo build --release -p berth

ui: frontend/dist/app_bg.wasm

frontend/dist/app_bg.wasm: $(UI_SRC)
	@bash scripts/build-frontend.sh

## lint: formatting and clippy, as required before every commit
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## stop: stop the daemon `make run` started
stop:
	@bash scripts/run.sh stop

## bench: image store, registry, container start, build, auth and load benchmarks, side by side with peers
bench: build
	@bash bench/images.sh
	@bash bench/registry.sh
	@bash bench/run-latency.sh
	@bash bench/build.sh
	@bash bench/auth.sh
	@bash bench/load.sh

## fuzz: each fuzz target for FUZZ_SECONDS (default 60) from the committed corpus
fuzz:
	@bash scripts/fuzz.sh

clean-cache:
	rm -rf $(CARGO_TARGET_DIR) $(WEB_TARGET_DIR)
