# Chinwag: `make demo` runs the main flow against an embedded local server; `make test` runs
# every test (Rust, C, C++, the protocol interop test). Both set up what they need themselves.

CARGO ?= cargo
CC ?= cc
CXX ?= c++
PYTHON ?= python3
VENV := target/venv
PY := $(VENV)/bin/python
BUILD := target/debug
CWARN := -Wall -Wextra -Werror -pedantic
# C tests and examples: built plain (run under valgrind) and with AddressSanitizer.
CTESTS := version bad_input hard_cases session_store app_dispatch chat_surface chat_calls first_use conversations
CEXAMPLES := quickstart manual_connection group_call
CDIR := $(BUILD)/ctests
# C++ (include/chinwag.hpp): tests and examples, built plain (run under valgrind) and with
# AddressSanitizer + UndefinedBehaviorSanitizer. no_exceptions is built with -fno-exceptions.
CXXWARN := -std=c++17 $(CWARN)
CPPTESTS := listeners completions threads no_exceptions conversations
CPPEXAMPLES := quickstart manual_connection group_call
CPPDIR := $(BUILD)/cpptests
CPPBINS := $(addprefix $(CPPDIR)/,$(CPPTESTS))
CPPEXAMPLE_BINS := $(addprefix $(CPPDIR)/examples/,$(CPPEXAMPLES))
CPPBINS_ASAN := $(addprefix $(CPPDIR)/asan/,$(CPPTESTS) $(addprefix examples/,$(CPPEXAMPLES)))
ASAN_CXX ?= $(shell command -v clang++ >/dev/null 2>&1 && echo clang++ || echo $(CXX))
SAN_FLAGS := -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CPPDEPS := include/chinwag.hpp include/chinwag.h tests/cpp/common.hpp
# The test server's unanswered-call timeout (its default is 45 s): short, so that the tests and
# examples/c/group_call.c show an unanswered call quickly; the tests keep a margin for valgrind.
TEST_CALL_TIMEOUT_MS ?= 5000
DEMO_CALL_TIMEOUT_MS ?= 3000
CLINK := -L$(BUILD) -lchinwag -Wl,-rpath,$(CURDIR)/$(BUILD) -pthread
# The library `make install` ships: the C tests and examples run under valgrind against it too.
RELEASE := target/release
CRDIR := $(RELEASE)/ctests
CRLINK := -L$(RELEASE) -lchinwag -Wl,-rpath,$(CURDIR)/$(RELEASE) -pthread
ASAN_CC ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo $(CC))
ASAN_FLAGS := -g -fsanitize=address -fno-omit-frame-pointer
# `make install PREFIX=... [PROFILE=release|debug] [DESTDIR=...]`
PREFIX ?= /usr/local
PROFILE ?= release
PROFILE_DIR := $(if $(filter release,$(PROFILE)),release,debug)
VERSION := $(shell sed -n 's/^version = "\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
INSTALL_TEST := $(CURDIR)/$(BUILD)/install-test

.PHONY: all build test demo demo-check bench lint rust-test server-test-postgres postgres-installed nats-installed header-check c-test interop-test python-test kotlin-test kotlin-bench venv clean \
	install install-test c-build c-examples c-symbols serve-helper test-faults c-test-release \
	cpp-build cpp-examples cpp-test wheel fuzz soak openapi api-contract-test

all: build

build:
	$(CARGO) build --workspace

demo: c-examples cpp-examples
	$(CARGO) run -q -p chinwag-server --example demo
	@echo
	@echo "== the C examples, against an embedded server =="
	CHINWAG_TEST_CALL_TIMEOUT_MS=$(DEMO_CALL_TIMEOUT_MS) tests/c/run.sh plain $(addprefix $(CDIR)/,$(CEXAMPLES))
	@echo
	@echo "== the C++ examples, against an embedded server =="
	CHINWAG_TEST_CALL_TIMEOUT_MS=$(DEMO_CALL_TIMEOUT_MS) tests/c/run.sh plain $(addprefix $(CPPDIR)/examples/,$(CPPEXAMPLES))

# Figures, not assertions (each next to its target): the disk's fsync, then the SDK bench (every
# figure next to a bare relay's floor, the write path against a `--durability power` and a
# `--durability process` server), then the server's own write-path bench (raw sockets, both
# modes). Table on stdout, JSON in target/bench/results.json. `-- --quick` on either for smaller counts.
bench:
	$(CARGO) build --release --lib
	$(CARGO) build --release -p chinwag-server --bin chinwag-server
	$(CARGO) bench --bench sdk
	$(CARGO) bench -p chinwag-server --bench throughput
	$(CARGO) bench -p chinwag-server --bench chat_surface
	$(MAKE) --no-print-directory kotlin-bench

# The Kotlin binding's round trip next to the C ABI's, against one release server, their blocks
# interleaved (bindings/kotlin/src/test/kotlin/io/chinwag/bench/RoundTripBench.kt); JSON in
# target/bench/kotlin.json. KOTLIN_BENCH_ARGS=--quick for smaller counts.
KOTLIN_BENCH_ARGS ?=
kotlin-bench:
	$(CARGO) build --release --lib
	$(CARGO) build --release -p chinwag-server --bin chinwag-server
	cd bindings/kotlin && CHINWAG_LIBRARY=$(CURDIR)/target/release/libchinwag.so \
	  CHINWAG_SERVER_BIN=$(CURDIR)/target/release/chinwag-server \
	  $(MVN) -B -q --no-transfer-progress test-compile exec:java -Dexec.classpathScope=test \
	  -Dexec.cleanupDaemonThreads=false -Dexec.mainClass=io.chinwag.bench.RoundTripBenchKt \
	  -Dexec.args="$(KOTLIN_BENCH_ARGS)"

test: lint rust-test server-test-postgres demo-check header-check c-test cpp-test interop-test api-contract-test python-test kotlin-test
	@echo "make test: all suites passed"

# The dependency check (tests/deps/check.py) is offline: bans (crates RustSec flags as
# unmaintained), licences, one WebSocket stack; RustSec's advisory database is not consulted.
# `make demo`'s server story, so that the README's first command stays true (its C and C++
# examples run in c-test and cpp-test).
demo-check:
	$(CARGO) run -q -p chinwag-server --example demo

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(PYTHON) tests/deps/check.py

# PostgreSQL's binaries (Debian's postgresql package), which server/tests/postgres_nodes.rs and
# server-test-postgres start themselves: installed here when run as root, else a clear failure.
postgres-installed:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  { echo "PostgreSQL is missing (apt-get install postgresql): the server's PostgreSQL tests need it"; exit 1; }

# nats-server (Debian's nats-server package), which server/tests/multinode.rs starts itself (the
# live path between nodes): installed here when run as root, else a clear failure.
nats-installed:
	@{ command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; } || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null; } || \
	  { echo "nats-server is missing (apt-get install nats-server): the server's multi-node tests need it"; exit 1; }

rust-test: postgres-installed nats-installed
	$(CARGO) test --workspace

# The server suites again, on PostgreSQL (issue 12): tests/postgres/with-postgres.sh starts a
# throwaway PostgreSQL on a free loopback port, each test server gets a fresh database of it, and
# the script stops it. backup.rs is SQLite's own (a copy of the file) and write_path.rs is about
# the SQLite file's group commit; both stay on SQLite only (as do the few tests elsewhere that
# name an SQLite file).
PG_SUITES := authz_matrix blocking calls_and_limits conversations lifecycle limits_connections mentions threads \
	limits_content metrics migrations operations privacy rest smoke socket
server-test-postgres: postgres-installed
	tests/postgres/with-postgres.sh $(CARGO) test -p chinwag-server $(addprefix --test ,$(PG_SUITES))

# Coverage-guided fuzzing (not part of `make test`, which replays every kept input on the stable
# toolchain in tests/fuzz_replay.rs): each target of fuzz/ for FUZZ_SECONDS under libFuzzer and
# AddressSanitizer (nightly + cargo-fuzz), niced, since the machine is shared. New inputs go to
# target/fuzz-corpus/<target>; the seeds (fuzz/corpus, fuzz/seeds.py) are read, not written. A
# crash leaves its input in fuzz/artifacts/<target>/: fix it, then keep the input in
# fuzz/regressions/<target>/ so that `make test` replays it. Each run's figures (executions,
# coverage) are in target/fuzz-logs/<target>.log and summed up at the end.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= server_frames sdk_frames rest c_abi
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || { echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz --locked"; exit 1; }
	@rustup toolchain list | grep -q '^nightly' || { echo "make fuzz needs the nightly toolchain: rustup toolchain install nightly"; exit 1; }
	cd fuzz && CARGO_INCREMENTAL=0 nice -n 10 cargo +nightly fuzz build
	@mkdir -p target/fuzz-logs
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/fuzz-corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && nice -n 10 cargo +nightly fuzz run $$t $(CURDIR)/target/fuzz-corpus/$$t $(CURDIR)/fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1) \
	    > target/fuzz-logs/$$t.log 2>&1 || { tail -n 60 target/fuzz-logs/$$t.log; echo "fuzz $$t: a finding, see above and fuzz/artifacts/$$t"; exit 1; }; \
	done
	@for t in $(FUZZ_TARGETS); do \
	  printf '%-14s %s | %s\n' $$t "$$(grep -E '^#[0-9]+' target/fuzz-logs/$$t.log | tail -n1 | cut -c1-90)" \
	    "$$(grep -E 'stat::number_of_executed_units' target/fuzz-logs/$$t.log | tr -s ' ')"; \
	done

# The soak (not part of `make test`): SOAK_CLIENTS SDK clients (1000) churn against one release
# server process for SOAK_SECONDS (600): connect, disconnect, send. Prints the RSS and descriptors
# of both processes as a curve; fails when they grow after warm-up or a message is lost or
# delivered twice (examples/soak.rs).
SOAK_SECONDS ?= 600
SOAK_CLIENTS ?= 1000
soak:
	CARGO_INCREMENTAL=0 $(CARGO) build --release -p chinwag-server --bin chinwag-server
	CARGO_INCREMENTAL=0 $(CARGO) build --release --example soak
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_CLIENTS=$(SOAK_CLIENTS) \
	  CHINWAG_SERVER_BIN=$(CURDIR)/target/release/chinwag-server target/release/examples/soak

# The committed header must be what the build generates from the current sources.
header-check: build
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- include/ || { echo "include/chinwag.h is stale: commit the regenerated header"; exit 1; }; \
	fi

# The server the C programs talk to (see tests/c/run.sh).
serve-helper:
	$(CARGO) build -q -p chinwag-server --example serve_for_tests

c-examples: build serve-helper
	@mkdir -p $(CDIR)
	@for e in $(CEXAMPLES); do echo "  CC examples/c/$$e.c"; \
	  $(CC) -std=c99 $(CWARN) -g -Iinclude examples/c/$$e.c $(CLINK) -o $(CDIR)/$$e || exit 1; \
	done

c-build: c-examples
	@mkdir -p $(CDIR)/asan
	$(CC) -std=c99 $(CWARN) -Iinclude -fsyntax-only -x c include/chinwag.h
	$(CXX) -std=c++11 $(CWARN) -Iinclude -fsyntax-only -x c++ include/chinwag.h
	@for t in $(CTESTS); do echo "  CC tests/c/$$t.c (plain and ASan)"; \
	  $(CC) -std=c99 $(CWARN) -g -Iinclude tests/c/$$t.c $(CLINK) -o $(CDIR)/$$t || exit 1; \
	  $(ASAN_CC) -std=c99 $(CWARN) $(ASAN_FLAGS) -Iinclude tests/c/$$t.c $(CLINK) -o $(CDIR)/asan/$$t || exit 1; \
	done
	@for e in $(CEXAMPLES); do \
	  $(ASAN_CC) -std=c99 $(CWARN) $(ASAN_FLAGS) -Iinclude examples/c/$$e.c $(CLINK) -o $(CDIR)/asan/$$e || exit 1; \
	done

# The library exports the C API and nothing else.
c-symbols: build
	@extra=$$(nm -D --defined-only $(BUILD)/libchinwag.so | awk '{print $$3}' | grep -v '^chinwag_' || true); \
	if [ -n "$$extra" ]; then echo "libchinwag.so exports symbols outside chinwag_*: $$extra"; exit 1; fi
	@echo "c-symbols: $$(nm -D --defined-only $(BUILD)/libchinwag.so | grep -c ' chinwag_') exported functions, all chinwag_*"

# Every C test and example under valgrind, then built with AddressSanitizer, then again under
# valgrind against the release library, then the installed copy (shared and static) through
# pkg-config.
c-test: c-build c-symbols
	CHINWAG_TEST_CALL_TIMEOUT_MS=$(TEST_CALL_TIMEOUT_MS) tests/c/run.sh valgrind $(addprefix $(CDIR)/,$(CTESTS) $(CEXAMPLES))
	CHINWAG_TEST_CALL_TIMEOUT_MS=$(TEST_CALL_TIMEOUT_MS) tests/c/run.sh asan $(addprefix $(CDIR)/asan/,$(CTESTS) $(CEXAMPLES))
	$(MAKE) --no-print-directory c-test-release
	$(MAKE) --no-print-directory install-test

# The release library (what `make install` ships) under valgrind, with the suppressions file
# that ships beside it (include/chinwag.supp: each entry says why it is safe).
c-test-release: serve-helper
	$(CARGO) build --release -p chinwag --lib
	@mkdir -p $(CRDIR)
	@for t in $(CTESTS); do echo "  CC tests/c/$$t.c (release library)"; \
	  $(CC) -std=c99 $(CWARN) -g -Iinclude tests/c/$$t.c $(CRLINK) -o $(CRDIR)/$$t || exit 1; \
	done
	@for e in $(CEXAMPLES); do echo "  CC examples/c/$$e.c (release library)"; \
	  $(CC) -std=c99 $(CWARN) -g -Iinclude examples/c/$$e.c $(CRLINK) -o $(CRDIR)/$$e || exit 1; \
	done
	CHINWAG_TEST_CALL_TIMEOUT_MS=$(TEST_CALL_TIMEOUT_MS) tests/c/run.sh valgrind $(addprefix $(CRDIR)/,$(CTESTS) $(CEXAMPLES))

# The C++ binding: the header alone must compile (with and without exceptions, GCC and Clang),
# then the tests plain and sanitized, the examples sanitized (two compilers at a time: C++ is
# slow to build). `make demo` runs the examples built plain (cpp-examples).
cpp-examples: build serve-helper
	@mkdir -p $(CPPDIR)/examples
	@$(MAKE) --no-print-directory -j2 $(CPPEXAMPLE_BINS)

cpp-build: build serve-helper
	@mkdir -p $(CPPDIR)/examples $(CPPDIR)/asan/examples
	$(CXX) $(CXXWARN) -Iinclude -fsyntax-only -x c++ include/chinwag.hpp
	$(CXX) $(CXXWARN) -fno-exceptions -Iinclude -fsyntax-only -x c++ include/chinwag.hpp
	$(ASAN_CXX) $(CXXWARN) -Iinclude -fsyntax-only -x c++ include/chinwag.hpp
	@$(MAKE) --no-print-directory -j2 $(CPPBINS) $(CPPBINS_ASAN)

$(CPPDIR)/no_exceptions $(CPPDIR)/asan/no_exceptions: CPPEXTRA := -fno-exceptions

$(CPPDIR)/%: tests/cpp/%.cpp $(CPPDEPS)
	@echo "  CXX $<"
	@$(CXX) $(CXXWARN) $(CPPEXTRA) -g -Iinclude $< $(CLINK) -o $@

$(CPPDIR)/asan/%: tests/cpp/%.cpp $(CPPDEPS)
	@echo "  CXX $< (ASan+UBSan)"
	@$(ASAN_CXX) $(CXXWARN) $(CPPEXTRA) $(SAN_FLAGS) -Iinclude $< $(CLINK) -o $@

$(CPPDIR)/examples/%: examples/cpp/%.cpp include/chinwag.hpp include/chinwag.h
	@echo "  CXX $<"
	@$(CXX) $(CXXWARN) -g -Iinclude $< $(CLINK) -o $@

$(CPPDIR)/asan/examples/%: examples/cpp/%.cpp include/chinwag.hpp include/chinwag.h
	@echo "  CXX $< (ASan+UBSan)"
	@$(ASAN_CXX) $(CXXWARN) $(SAN_FLAGS) -Iinclude $< $(CLINK) -o $@

# The C++ tests under valgrind (two servers, two tests at a time: valgrind runs one thread at
# a time), then tests and examples with ASan+UBSan. The install test covers the C++ example.
cpp-test: cpp-build
	@export CHINWAG_TEST_CALL_TIMEOUT_MS=$(TEST_CALL_TIMEOUT_MS); \
	tests/c/run.sh valgrind $(CPPDIR)/listeners $(CPPDIR)/no_exceptions & first=$$!; \
	tests/c/run.sh valgrind $(CPPDIR)/completions $(CPPDIR)/threads $(CPPDIR)/conversations; second=$$?; \
	wait $$first; first=$$?; \
	[ $$first -eq 0 ] && [ $$second -eq 0 ] || { echo "cpp-test: valgrind runs failed"; exit 1; }
	CHINWAG_TEST_CALL_TIMEOUT_MS=$(TEST_CALL_TIMEOUT_MS) UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  tests/c/run.sh asan $(CPPBINS_ASAN)

# Installs libchinwag.so/.a, include/chinwag.h and chinwag.hpp, lib/pkgconfig/chinwag.pc,
# the CMake package lib/cmake/chinwag (find_package(chinwag): chinwag::chinwag) and the valgrind
# suppressions share/chinwag/chinwag.supp under PREFIX.
install:
	@if [ -z "$(SKIP_BUILD)" ]; then $(CARGO) build -p chinwag $(if $(filter release,$(PROFILE)),--release,); fi
	install -d "$(DESTDIR)$(PREFIX)/lib/pkgconfig" "$(DESTDIR)$(PREFIX)/lib/cmake/chinwag" "$(DESTDIR)$(PREFIX)/include" \
	  "$(DESTDIR)$(PREFIX)/share/chinwag"
	install -m 0755 target/$(PROFILE_DIR)/libchinwag.so "$(DESTDIR)$(PREFIX)/lib/"
	install -m 0644 target/$(PROFILE_DIR)/libchinwag.a "$(DESTDIR)$(PREFIX)/lib/"
	install -m 0644 include/chinwag.h include/chinwag.hpp "$(DESTDIR)$(PREFIX)/include/"
	install -m 0644 include/chinwag.supp "$(DESTDIR)$(PREFIX)/share/chinwag/"
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' chinwag.pc.in \
	  > "$(DESTDIR)$(PREFIX)/lib/pkgconfig/chinwag.pc"
	install -m 0644 cmake/chinwagConfig.cmake.in "$(DESTDIR)$(PREFIX)/lib/cmake/chinwag/chinwagConfig.cmake"
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(word 1,$(subst ., ,$(VERSION)))|g' \
	  -e 's|@VERSION_MINOR@|$(word 2,$(subst ., ,$(VERSION)))|g' cmake/chinwagConfigVersion.cmake.in \
	  > "$(DESTDIR)$(PREFIX)/lib/cmake/chinwag/chinwagConfigVersion.cmake"

# Installs the debug build into a temporary prefix, builds examples/c/quickstart.c against the
# installed copy with pkg-config (shared, and static through Libs.private), and
# examples/cpp/quickstart.cpp with pkg-config and with CMake (find_package; shared and
# static), and runs them all.
install-test: build serve-helper
	rm -rf $(INSTALL_TEST)
	$(MAKE) --no-print-directory install PREFIX=$(INSTALL_TEST) PROFILE=debug SKIP_BUILD=1
	@mkdir -p $(INSTALL_TEST)/bin
	@export PKG_CONFIG_PATH=$(INSTALL_TEST)/lib/pkgconfig; \
	test "$$(pkg-config --modversion chinwag)" = "$(VERSION)" || { echo "chinwag.pc: wrong version"; exit 1; }; \
	set -x; \
	$(CC) -std=c99 $(CWARN) examples/c/quickstart.c $$(pkg-config --cflags --libs chinwag) -pthread \
	  -Wl,-rpath,$(INSTALL_TEST)/lib -o $(INSTALL_TEST)/bin/quickstart-shared && \
	$(CC) -std=c99 $(CWARN) examples/c/quickstart.c $$(pkg-config --cflags chinwag) \
	  $$(pkg-config --static --libs chinwag | sed 's/-lchinwag\b/-l:libchinwag.a/') -pthread \
	  -o $(INSTALL_TEST)/bin/quickstart-static
	@test -f $(INSTALL_TEST)/share/chinwag/chinwag.supp || { echo "chinwag.supp not installed"; exit 1; }
	@ldd $(INSTALL_TEST)/bin/quickstart-shared | grep -q "$(INSTALL_TEST)/lib/libchinwag.so" \
	  || { echo "quickstart-shared does not use the installed libchinwag.so"; exit 1; }
	@! ldd $(INSTALL_TEST)/bin/quickstart-static | grep -q libchinwag \
	  || { echo "quickstart-static still needs libchinwag.so"; exit 1; }
	@# The C++ quickstart against the installed copy: pkg-config, then CMake (shared, static).
	@command -v cmake >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null; } || \
	  { echo "install-test: cmake is missing (apt-get install cmake)"; exit 1; }
	@export PKG_CONFIG_PATH=$(INSTALL_TEST)/lib/pkgconfig; set -x; \
	$(CXX) $(CXXWARN) examples/cpp/quickstart.cpp $$(pkg-config --cflags --libs chinwag) -pthread \
	  -Wl,-rpath,$(INSTALL_TEST)/lib -o $(INSTALL_TEST)/bin/quickstart-cpp-pkgconfig
	cmake -S examples/cpp -B $(INSTALL_TEST)/cmake-shared -DCMAKE_PREFIX_PATH=$(INSTALL_TEST) \
	  -DCMAKE_CXX_COMPILER=$(CXX) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake -S examples/cpp -B $(INSTALL_TEST)/cmake-static -DCMAKE_PREFIX_PATH=$(INSTALL_TEST) \
	  -DCMAKE_CXX_COMPILER=$(CXX) -DCMAKE_BUILD_TYPE=Debug -DCHINWAG_STATIC=ON >/dev/null
	cmake --build $(INSTALL_TEST)/cmake-shared --target quickstart -j 2 >/dev/null
	cmake --build $(INSTALL_TEST)/cmake-static --target quickstart -j 2 >/dev/null
	@ldd $(INSTALL_TEST)/cmake-shared/quickstart | grep -q "$(INSTALL_TEST)/lib/libchinwag.so" \
	  || { echo "the CMake shared build does not use the installed libchinwag.so"; exit 1; }
	@! ldd $(INSTALL_TEST)/cmake-static/quickstart | grep -q libchinwag \
	  || { echo "the CMake static build still needs libchinwag.so"; exit 1; }
	cp $(INSTALL_TEST)/cmake-shared/quickstart $(INSTALL_TEST)/bin/quickstart-cpp-cmake-shared
	cp $(INSTALL_TEST)/cmake-static/quickstart $(INSTALL_TEST)/bin/quickstart-cpp-cmake-static
	tests/c/run.sh plain $(INSTALL_TEST)/bin/quickstart-shared $(INSTALL_TEST)/bin/quickstart-static \
	  $(INSTALL_TEST)/bin/quickstart-cpp-pkgconfig $(INSTALL_TEST)/bin/quickstart-cpp-cmake-shared \
	  $(INSTALL_TEST)/bin/quickstart-cpp-cmake-static

venv: $(VENV)/.ready

$(VENV)/.ready: tests/interop/requirements.txt bindings/python/requirements-test.txt tests/api_contract/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt \
	  -r bindings/python/requirements-test.txt -r tests/api_contract/requirements.txt
	touch $@

interop-test: venv
	$(CARGO) build -p chinwag-server
	CHINWAG_SERVER_BIN=$(CURDIR)/$(BUILD)/chinwag-server $(PY) -m pytest -q tests/interop

# The OpenAPI description of the REST API, generated from the server's code
# (server/src/http/openapi.rs): served at /v1/openapi.json, committed as docs/openapi.json
# (server/tests/openapi.rs fails when they differ). Run after changing a route or a wire type.
openapi:
	$(CARGO) run -q -p chinwag-server --example openapi > docs/openapi.json.new
	mv docs/openapi.json.new docs/openapi.json

# schemathesis against a live debug server (tests/api_contract/run.py), with the API key, a
# user's token and no credentials: no 5xx, every status, body and header as described.
# Reports (JUnit, HAR) and the server's log go to target/api-contract.
api-contract-test: venv
	$(CARGO) build -p chinwag-server
	CHINWAG_SERVER_BIN=$(CURDIR)/$(BUILD)/chinwag-server API_CONTRACT_REPORTS=$(CURDIR)/target/api-contract \
	  $(PY) tests/api_contract/run.py

# The Python binding (bindings/python): a wheel built with the debug library inside (the build
# hook, bindings/python/setup.py, copies a prebuilt library instead of building the release one:
# quick), installed into the venv; then its pytest suite against the debug library and a real
# chinwag-server (see its README.md), which also installs the wheel into a fresh venv outside the
# repository and runs the quickstart from it (tests/test_wheel.py).
PY_TEST_WHEELS := $(BUILD)/python-wheel
python-test: venv build
	rm -rf bindings/python/build $(PY_TEST_WHEELS)
	CHINWAG_PREBUILT_LIBRARY=$(CURDIR)/$(BUILD)/libchinwag.so $(PY) -m pip wheel --quiet \
	  --disable-pip-version-check --no-deps -w $(PY_TEST_WHEELS) ./bindings/python
	$(PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(PY_TEST_WHEELS)/chinwag-*.whl
	CHINWAG_LIBRARY=$(CURDIR)/$(BUILD)/libchinwag.so CHINWAG_SERVER_BIN=$(CURDIR)/$(BUILD)/chinwag-server \
	  CHINWAG_WHEEL=$$(ls $(CURDIR)/$(PY_TEST_WHEELS)/chinwag-*.whl) $(PY) -m pytest -q bindings/python/tests

# `make wheel`: target/wheels/chinwag-VERSION-py3-none-PLATFORM.whl, carrying the release
# libchinwag (the build hook runs cargo build --release). `pip install ./bindings/python` does the
# same in one step.
wheel: venv
	rm -rf bindings/python/build target/wheels
	$(PY) -m pip wheel --disable-pip-version-check --no-deps -w target/wheels ./bindings/python
	@ls target/wheels/chinwag-*.whl

# The Kotlin/JVM binding (bindings/kotlin, JNA): Maven builds it with the debug library bundled in
# the jar and runs its JUnit 5 suite against real chinwag-server processes (see its README.md).
# Needs a JDK 17+ and Maven; as root on a Debian-like machine they are installed when missing.
MVN ?= mvn
KOTLIN_JAR := bindings/kotlin/target/chinwag.jar
kotlin-test: build
	@if ! command -v $(MVN) >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "kotlin-test: installing a JDK and Maven"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null; \
	  else \
	    echo "kotlin-test needs Maven (mvn) and a JDK 17+ (javac) on PATH: e.g. apt-get install openjdk-17-jdk-headless maven"; exit 1; \
	  fi; \
	fi
	cd bindings/kotlin && $(MVN) -B --no-transfer-progress verify \
	  -Dchinwag.lib.dir=$(CURDIR)/$(BUILD) -Dchinwag.server.bin=$(CURDIR)/$(BUILD)/chinwag-server
	@jar tf $(KOTLIN_JAR) | grep -qx 'linux-x86-64/libchinwag.so' \
	  || { echo "$(KOTLIN_JAR) does not bundle linux-x86-64/libchinwag.so"; exit 1; }
	@echo "kotlin-test: $(KOTLIN_JAR) bundles linux-x86-64/libchinwag.so"

# Real network and process faults between real processes: network namespaces joined by a veth
# pair, iptables loss and blackholes, link down/up, server SIGKILL, SIGSTOP, token revocation.
# Needs root and iptables; a case that cannot run says SKIP (FAULT_ARGS=--strict fails then).
# See docs/testing.md "Reliability" and tests/faults/run.py.
FAULT_ARGS ?=
# Run against the debug binaries and again against the release ones (what ships).
test-faults:
	$(CARGO) build -p chinwag-server --bin chinwag-server
	$(CARGO) build -p chinwag --example fault_client
	$(CARGO) build --release -p chinwag-server --bin chinwag-server
	$(CARGO) build --release -p chinwag --example fault_client
	$(PYTHON) tests/faults/run.py --bin-dir $(CURDIR)/$(BUILD) $(FAULT_ARGS)
	$(PYTHON) tests/faults/run.py --bin-dir $(CURDIR)/$(RELEASE) $(FAULT_ARGS)

clean:
	$(CARGO) clean
