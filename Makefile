# dkl — build, test, demo, benchmark and install. See README.md.
SWIFT      ?= swift
PREFIX     ?= /usr/local
DESTDIR    ?=
SWIFTFLAGS ?= -Xswiftc -warnings-as-errors
# Every executable, read from Package.swift's list.
TOOLS       = $(shell sed -n 's/^let tools = \[\(.*\)\]/\1/p' Package.swift | tr -d '",')
# Debian 12 packages the build, the tests and the benchmarks need.
DEBS        = pkg-config libopenblas-dev liblapacke-dev libhdf5-dev zlib1g-dev python3-numpy python3-h5py python3-venv mandoc hyperfine
# A Python with Pyro5 for one test (made by the rule below 'test').
PYRO_VENV   = .build/pyro-venv
# Two BLAS threads were never faster on 2 cores, and a threaded Cholesky can be far slower under load.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: all build test check fuzz sanitize sanitize-address test-hpc demo bench deps check-deps install share clean

all: build

build: check-deps
	for t in $(TOOLS); do $(SWIFT) build -c release $(SWIFTFLAGS) --product $$t || exit 1; done

# The tools' tests run the release build (as users do: the networks train far slower
# unoptimized); the library's tests run in debug.
test: check-deps $(PYRO_VENV)/bin/python
	@command -v mandoc >/dev/null || $(MAKE) --no-print-directory deps
	$(SWIFT) build -c release $(SWIFTFLAGS)
	$(SWIFT) build $(SWIFTFLAGS)
	DKL_BIN=$(CURDIR)/.build/release $(SWIFT) test --disable-swift-testing $(SWIFTFLAGS)

# A Python with Pyro5, for the test of the instrument adapter to Pyro5 microscopes
# (share/instruments): Debian's Python and numpy, Pyro5 from PyPI.
$(PYRO_VENV)/bin/python:
	/usr/bin/python3 -m venv --system-site-packages $(PYRO_VENV)
	$(PYRO_VENV)/bin/pip install -q Pyro5 || { rm -rf $(PYRO_VENV); exit 1; }

# The quick loop for everyday work: the library tests and the tool tests without the
# pipelines, the cards' rVAE and the fuzzer (under 3 minutes on 2 cores).
QUICK_SKIP = --skip PipelineTests --skip CardsRVAETests --skip FuzzTests
check: check-deps $(PYRO_VENV)/bin/python
	$(SWIFT) build -c release $(SWIFTFLAGS)
	$(SWIFT) build $(SWIFTFLAGS)
	DKL_BIN=$(CURDIR)/.build/release $(SWIFT) test --disable-swift-testing $(SWIFTFLAGS) $(QUICK_SKIP)

# Damaged files of every kind the tools read (streams, NDJSON, NPY, HDF5, USID, DM4, Velox,
# HyperSpy, Nanonis grids and spectra, Igor waves, DKL and VAE models, ferrosim checkpoints,
# dkl-explore traces), 520 of each, through the tools,
# and hostile values for the options of every tool: prints cases, rejected, accepted,
# crashes and hangs per kind (make test tries 60 files of each kind and 150 options).
FUZZ_CASES ?= 520
fuzz: check-deps
	$(SWIFT) build -c release $(SWIFTFLAGS)
	$(SWIFT) build $(SWIFTFLAGS)
	DKL_FUZZ_CASES=$(FUZZ_CASES) DKL_FUZZ_OPTIONS=1500 DKL_BIN=$(CURDIR)/.build/release $(SWIFT) test --disable-swift-testing $(SWIFTFLAGS) --filter FuzzTests 2>&1 \
	  | tee .build/fuzz.log | grep -a -E '^fuzz|error:|Executed'; grep -q "with 0 failures" .build/fuzz.log

# The library's tests of threads, processes, memory and the numerics under ThreadSanitizer,
# in a build folder of its own (the slow trainings are left out).
SANITIZED = DKLTests
SANITIZE_SKIP = --skip CardsRVAETests --skip LatentBOTests --skip JSONTests.testNumbersAgreeWithStrtod --skip FastMathTests
sanitize: check-deps
	$(SWIFT) build -c release $(SWIFTFLAGS)
	DKL_BIN=$(CURDIR)/.build/release $(SWIFT) test --disable-swift-testing --sanitize=thread --scratch-path .build-tsan --filter $(SANITIZED) $(SANITIZE_SKIP)

# AddressSanitizer, the same way. Leak detection is off: XCTest's runner frees none of its
# test cases at exit, and LeakSanitizer would report them (the toolkit's own memory is
# checked by FerroSimToolTests' peak-memory test and by the errors ASan does report).
sanitize-address: check-deps
	$(SWIFT) build -c release $(SWIFTFLAGS)
	ASAN_OPTIONS=detect_leaks=0 DKL_BIN=$(CURDIR)/.build/release $(SWIFT) test --disable-swift-testing --sanitize=address --scratch-path .build-asan --filter $(SANITIZED) $(SANITIZE_SKIP)

# The Slurm job arrays of pipelines/hpc on a one-node Slurm started and stopped by the test
# (as root; installs Debian's slurmctld slurmd slurm-client munge when they are missing).
test-hpc: build
	@command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null \
	  || $(MAKE) --no-print-directory deps DEBS="slurmctld slurmd slurm-client munge"
	./pipelines/hpc/test.sh $(CURDIR)/.build/release

# Pipeline 5 (pipelines/microscopy) on the bundled sample data: about 30 s on 2 cores.
demo: build
	@$(MAKE) -s --no-print-directory -C pipelines/microscopy BIN=$(CURDIR)/.build/release
	@echo "figures: $$(ls pipelines/microscopy/out/*.png | tr '\n' ' ')"
	@echo "table:   pipelines/microscopy/out/summary.tsv"

bench: build
	./bench/run.sh

# Installs the Debian packages as root; otherwise prints the command and fails.
deps:
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEBS); \
	else \
	  echo "run as root:  apt-get update && apt-get install -y $(DEBS)"; exit 1; \
	fi

# Installs the packages only when a library is missing (so 'make demo' works on a fresh machine).
check-deps:
	@pkg-config --exists openblas lapacke hdf5 zlib && [ -f /usr/include/lapacke.h ] \
	  && /usr/bin/python3 -c 'import numpy, h5py, ensurepip' 2>/dev/null || $(MAKE) --no-print-directory deps

# Binaries linked with a static Swift runtime, so they run on nodes without a toolchain
# (they still need the Debian runtime libraries libopenblas0, liblapacke and libhdf5).
install: check-deps
	for t in $(TOOLS); do $(SWIFT) build -c release --static-swift-stdlib $(SWIFTFLAGS) --scratch-path .build-static --product $$t || exit 1; done
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	for t in $(TOOLS); do install -m 755 .build-static/release/$$t $(DESTDIR)$(PREFIX)/bin/; done
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/man5/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/man7/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -d $(DESTDIR)$(PREFIX)/share/dkl/instruments
	install -m 644 share/instruments/*.py $(DESTDIR)$(PREFIX)/share/dkl/instruments/

# Regenerates the bundled sample data with the toolkit's own generator.
share: build
	.build/release/dkl-synth --seed 0 share/plasmon

clean:
	rm -rf .build .build-static .build-tsan .build-asan bench/out
