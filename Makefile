# Thin wrapper over CMake (like neovim's): the two commands of the README.
#   make run    install missing packages, build, start dengond in the foreground
#   make check  install missing packages, build, run the whole suite, then again
#               under ASan+UBSan, then the libFuzzer harnesses briefly
# Other targets: build, test, asan, fuzz, bench, format, install, clean.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
CTEST_ARGS ?=
RUN_ARGS   ?=
PREFIX     ?= /usr/local

.PHONY: all deps build run test check asan fuzz bench format install clean

all: build

deps:
	@bash packaging/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDENGON_TESTING_BUILD=ON $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	exec $(BUILD)/bin/dengond $(RUN_ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'fuzz$$' $(CTEST_ARGS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDENGON_SANITIZE=ON \
	      -DDENGON_TESTING_BUILD=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS) -LE 'bench|fuzz$$' $(CTEST_ARGS)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDENGON_FUZZ=ON \
	      -DDENGON_TESTING_BUILD=ON $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'fuzz$$' $(CTEST_ARGS)

check: test asan fuzz

bench: build
	cd $(BUILD) && ctest --output-on-failure -V -L bench $(CTEST_ARGS)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
