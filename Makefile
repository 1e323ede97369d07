# A thin wrapper: install dependencies, configure, build, test, demo.
BUILD ?= build
CMAKE_FLAGS ?=
NNC = $(BUILD)/nnc

.PHONY: all deps configure build test demo clean fuzz asan bench

all: build

deps:
	@./tools/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD)

test: build
	cd $(BUILD) && ctest -j2 --output-on-failure --timeout 900

demo: build
	$(NNC) train examples/mnist_mlp.nn --epochs 1 --backend=auto

# Benchmarks, not tests: builds nnc_kernels (Google Benchmark) and the
# OpenBLAS trainer, then times mnist_mlp epochs of nnc, OpenBLAS and PyTorch
# side by side (benchmarks/README.md).
bench: configure
	cmake --build $(BUILD) --target nnc nnc_benchmarks
	benchmarks/epoch_compare.sh --nnc $(NNC) \
	  --trainer $(BUILD)/benchmarks/openblas_trainer

# Sanitizers: the whole tree with AddressSanitizer and UBSan (gcc), then the
# unit and golden suites. Any report fails the test that triggered it.
ASAN_BUILD ?= build-asan
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS=$(SAN_FLAGS)" "-DCMAKE_C_FLAGS=$(SAN_FLAGS)" \
	  "-DCMAKE_EXE_LINKER_FLAGS=$(SAN_FLAGS)" $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD)
	cd $(ASAN_BUILD) && \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -j2 -L 'unit|golden' --output-on-failure --timeout 900

# libFuzzer targets (clang-19): each runs FUZZ_SECONDS from a corpus seeded
# with the examples and tests; a crash or hang fails (tests/fuzz/run-fuzz.sh).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S tests/fuzz -B $(FUZZ_BUILD) -G Ninja -DNNC_FUZZ=ON \
	  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
	cmake --build $(FUZZ_BUILD)
	FUZZ_SECONDS=$(FUZZ_SECONDS) NNC=$(abspath $(NNC)) \
	  tests/fuzz/run-fuzz.sh $(FUZZ_BUILD)

clean:
	rm -rf $(BUILD)
