# Chinwag: `make demo` runs the main flow against an embedded local server; `make test` runs
# every test (Rust, C, the protocol interop test). Both set up what they need themselves.

CARGO ?= cargo
CC ?= cc
CXX ?= c++
PYTHON ?= python3
VENV := target/venv
PY := $(VENV)/bin/python
BUILD := target/debug
CWARN := -Wall -Wextra -Werror -pedantic

.PHONY: all build test demo bench lint rust-test header-check c-test interop-test venv clean

all: build

build:
	$(CARGO) build --workspace

demo:
	$(CARGO) run -q -p chinwag-server --example demo

# Figures, not assertions: SDK login/round trip/library size, and server throughput.
bench:
	$(CARGO) build --release --lib
	$(CARGO) build --release -p chinwag-server --bin chinwag-server
	$(CARGO) bench --bench sdk
	$(CARGO) bench -p chinwag-server --bench throughput

test: lint rust-test header-check c-test interop-test
	@echo "make test: all suites passed"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-test:
	$(CARGO) test --workspace

# The committed header must be what the build generates from the current sources.
header-check: build
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- include/ || { echo "include/chinwag.h is stale: commit the regenerated header"; exit 1; }; \
	fi

c-test: build
	@mkdir -p $(BUILD)/ctests
	$(CC) -std=c99 $(CWARN) -Iinclude -fsyntax-only -x c include/chinwag.h
	$(CXX) -std=c++11 $(CWARN) -Iinclude -fsyntax-only -x c++ include/chinwag.h
	$(CC) -std=c99 $(CWARN) -Iinclude tests/c/version.c -L$(BUILD) -lchinwag -Wl,-rpath,$(CURDIR)/$(BUILD) -o $(BUILD)/ctests/version
	$(BUILD)/ctests/version

venv: $(VENV)/.ready

$(VENV)/.ready: tests/interop/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
	touch $@

interop-test: venv
	$(CARGO) build -p chinwag-server
	CHINWAG_SERVER_BIN=$(CURDIR)/$(BUILD)/chinwag-server $(PY) -m pytest -q tests/interop

clean:
	$(CARGO) clean
