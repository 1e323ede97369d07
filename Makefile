# A thin wrapper: install dependencies, configure, build, test, demo.
BUILD ?= build
CMAKE_FLAGS ?=
NNC = $(BUILD)/nnc

.PHONY: all deps configure build test demo clean

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
	$(NNC) train examples/mnist_mlp.nn --epochs 1

clean:
	rm -rf $(BUILD)
