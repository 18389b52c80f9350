# Thin wrapper over CMake. Targets:
#   make            build build/iae and the library (packages must be present)
#   make run        install missing packages, build, run the main job
#   make test       install missing packages (with the data set), build, run the whole
#                   suite (ctest)
#   make bench      time the networks on this machine (iae bench)
#   make bench-compare  the same side by side with the PyTorch reference
#   make clean      remove the build folder

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

# The main job: IAE-LSTM-KL on Fashion-MNIST, normal class 0, seed 0.
RUN_ARGS ?= train --dataset fashion-mnist --normal-class 0 --metrics $(BUILD)/run-metrics.json \
            --out $(BUILD)/run-model.iae

.PHONY: all build deps deps-run deps-bench run test bench bench-compare clean

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

bench: deps build
	./$(BUILD)/iae bench

deps-bench:
	@sh scripts/install-deps.sh bench

# iae and the PyTorch reference, alternately, with iae/PyTorch ratios.
bench-compare: deps-bench build
	sh bench/compare.sh $(BUILD)/bench-compare

clean:
	rm -rf $(BUILD)
