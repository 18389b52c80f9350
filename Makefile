# Thin wrapper over CMake. Targets:
#   make            build build/iae and the library (packages must be present)
#   make run        install missing packages, build, run the main job
#   make test       install missing packages (with the data set), build, run the whole
#                   suite (ctest)
#   make bench      time the networks on this machine (iae bench)
#   make clean      remove the build folder

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

# The main job: IAE-LSTM-KL on Fashion-MNIST, normal class 0, seed 0.
RUN_ARGS ?= train --dataset fashion-mnist --normal-class 0 --metrics $(BUILD)/run-metrics.json \
            --out $(BUILD)/run-model.iae

.PHONY: all build deps deps-run run test bench clean

all: build

build:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@sh scripts/install-deps.sh build

deps-run:
	@sh scripts/install-deps.sh run

run: deps-run build
	./$(BUILD)/iae $(RUN_ARGS)

test: deps-run build
	cd $(BUILD) && ctest --output-on-failure -j 1

bench: deps-run build
	./$(BUILD)/iae bench

clean:
	rm -rf $(BUILD)
