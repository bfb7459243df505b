# agora — thin wrapper over CMake. See README.md.
#   make          build (build/agora, build/libagora.{a,so})
#   make demo     3-node PeerToPeer cluster on loopback, narrated scenarios
#   make test     every test (ctest), installing what is missing first
#   make asan     every test under AddressSanitizer + UBSan (build-asan/)
#   make tsan     every test under ThreadSanitizer (build-tsan/)
#   make fuzz     build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench    the benchmark matrix (docs/benchmarks.md)
#   make install  install under PREFIX (default: CMAKE_INSTALL_PREFIX, /usr/local)
#   make chaos    the fault-injection suite, as root (docs/reliability.md)
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
CTEST_FLAGS ?=
CTEST_WRAP ?=
FUZZ_SECONDS ?= 30
PREFIX ?=

.PHONY: all deps configure build test demo asan tsan fuzz bench chaos install clean

all: build

deps:
	@scripts/install-deps.sh

# cmake runs again whenever the flags differ from the last ones this Makefile used for
# $(BUILD) (kept in $(BUILD)/.make-flags): a build directory made by an earlier
# `make` or `make demo` still takes CMAKE_FLAGS=-DCMAKE_INSTALL_PREFIX=... and the rest.
# A directory configured by hand is left as it is unless CMAKE_FLAGS is given.
CONFIGURE_ARGS = -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
configure:
	@last=$$(cat $(BUILD)/.make-flags 2>/dev/null || echo none); \
	if [ ! -f $(BUILD)/CMakeCache.txt ] || \
	   { [ "$$last" != none ] && [ "$$last" != "$(CONFIGURE_ARGS)" ]; } || \
	   { [ "$$last" = none ] && [ -n "$(strip $(CMAKE_FLAGS))" ]; }; then \
	  echo "cmake -S . -B $(BUILD) $(CONFIGURE_ARGS)"; \
	  cmake -S . -B $(BUILD) $(CONFIGURE_ARGS) && echo "$(CONFIGURE_ARGS)" > $(BUILD)/.make-flags; \
	fi

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && $(CTEST_WRAP) ctest --output-on-failure $(CTEST_FLAGS)

demo: build
	@scripts/demo.sh $(BUILD)/agora

asan:
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DAGORA_SANITIZE=ON $(CMAKE_FLAGS)"

# TSan's runtime keeps its shadow memory at fixed addresses and dies with "unexpected
# memory mapping" when the kernel randomises mmap with more than 28 bits
# (vm.mmap_rnd_bits is 32 on some recent kernels). There, setarch -R turns address
# randomisation off for ctest and every process it starts; elsewhere nothing is needed.
TSAN_WRAP = $(shell [ "$$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] && echo "setarch $$(uname -m) -R")

TSAN_BUILD ?= build-tsan
tsan:
	$(MAKE) test BUILD=$(TSAN_BUILD) CMAKE_FLAGS="-DAGORA_TSAN=ON $(CMAKE_FLAGS)" CTEST_WRAP="$(TSAN_WRAP)"

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DAGORA_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@scripts/run-fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@scripts/bench.sh $(BUILD)/agora

# Every scenario in network namespaces (root); the figures go into docs/reliability.md,
# even when a scenario failed (its row says so).
chaos: build
	@AGORA_BIN=$(abspath $(BUILD))/agora tests/chaos/chaos.sh --results $(BUILD)/chaos-results.tsv; st=$$?; \
	if [ -s $(BUILD)/chaos-results.tsv ]; then scripts/reliability-report.sh $(BUILD)/chaos-results.tsv; fi; \
	exit $$st

# PREFIX=DIR installs under DIR whatever the build directory was configured with
# (every installed file finds the others relative to the prefix).
install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix "$(PREFIX)")

clean:
	rm -rf build build-asan build-tsan build-fuzz
