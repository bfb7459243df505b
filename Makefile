# agora — thin wrapper over CMake. See README.md.
#   make          build (build/agora, build/libagora.{a,so})
#   make demo     3-node PeerToPeer cluster on loopback, narrated scenarios
#   make test     every test (ctest), installing what is missing first
#   make asan     every test under AddressSanitizer + UBSan (build-asan/)
#   make fuzz     build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench    the benchmark matrix (docs/benchmarks.md)
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
CTEST_FLAGS ?=
FUZZ_SECONDS ?= 30

.PHONY: all deps configure build test demo asan fuzz bench install clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure $(CTEST_FLAGS)

demo: build
	@scripts/demo.sh $(BUILD)/agora

asan:
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DAGORA_SANITIZE=ON $(CMAKE_FLAGS)"

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DAGORA_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@scripts/run-fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@scripts/bench.sh $(BUILD)/agora

install: build
	cmake --install $(BUILD)

clean:
	rm -rf build build-asan build-fuzz
