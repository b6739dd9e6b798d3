# WholeBrain: `make demo` runs the main job on the bundled data; `make test` runs every test.
# Both install missing system packages first (`make deps`).
SWIFT ?= swift
# AVX2/FMA code generation where the CPU has it (results are bit-identical: no FP contraction).
CPU_FLAGS := $(shell grep -q avx2 /proc/cpuinfo 2>/dev/null && echo "-Xswiftc -target-cpu -Xswiftc haswell")
RELEASE := $(SWIFT) build -c release $(CPU_FLAGS)
BIN := .build/release
export SWIFT_BACKTRACE := enable=no

.PHONY: deps build install demo test test-slurm bench recovery fixtures clean

deps:
	@bash scripts/install-deps.sh
	@bash scripts/install-python-deps.sh

build: deps
	@mkdir -p .build && $(RELEASE) --product wholebrain > .build/build.log 2>&1 || (cat .build/build.log; exit 1)

# A stable path for cluster jobs: the binary and its resources in $(PREFIX)/lib/wholebrain,
# linked from $(PREFIX)/bin (on the PATH of most login shells when PREFIX is ~/.local).
PREFIX ?= $(HOME)/.local
install: build
	@mkdir -p $(PREFIX)/lib/wholebrain $(PREFIX)/bin
	@rm -rf $(PREFIX)/lib/wholebrain/WholeBrain_WholeBrain.resources
	@cp $(BIN)/wholebrain $(PREFIX)/lib/wholebrain/wholebrain.new && mv $(PREFIX)/lib/wholebrain/wholebrain.new $(PREFIX)/lib/wholebrain/wholebrain
	@cp -R $(BIN)/WholeBrain_WholeBrain.resources $(PREFIX)/lib/wholebrain/
	@ln -sf ../lib/wholebrain/wholebrain $(PREFIX)/bin/wholebrain
	@echo "installed $(PREFIX)/bin/wholebrain -> $(PREFIX)/lib/wholebrain/wholebrain"

demo: build
	@bash scripts/demo.sh $(BIN)/wholebrain

# Tests run optimised: the end-to-end runs simulate thousands of steps.
test: deps
	$(SWIFT) build -c release --build-tests $(CPU_FLAGS)
	$(SWIFT) test -c release --skip-build --disable-swift-testing $(CPU_FLAGS)
	python3 -m unittest discover -s python/tests -v
	$(MAKE) test-slurm

# The fit job through a real single-node Slurm (started and stopped by scripts/local-slurm.sh).
test-slurm: deps
	@mkdir -p .build && $(RELEASE) --product wholebrain > .build/build.log 2>&1 || (cat .build/build.log; exit 1)
	bash scripts/test-slurm.sh $(BIN)/wholebrain

bench: deps
	@mkdir -p .build && $(RELEASE) --product WholeBrainBench > .build/bench-build.log 2>&1 || (cat .build/bench-build.log; exit 1)
	$(BIN)/WholeBrainBench --write BENCHMARKS.md
	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 $(BIN)/WholeBrainBench --mpi --append BENCHMARKS.md

# Parameter recovery from synthetic BOLD (about an hour on 2 cores); rewrites RECOVERY.md.
recovery: build
	python3 scripts/recovery.py $(BIN)/wholebrain

fixtures:
	python3 Tests/WholeBrainTests/Fixtures/make_fixtures.py

clean:
	rm -rf .build runs
