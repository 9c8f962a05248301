# havm — the one entry point: build, test, bench, fuzz, lint, install, demo.
#
# Each module describes itself in <dir>/module.mk with a few variables (see
# docs/build.md); the templates at the end of this file turn them into rules
# for two variants:
#   build/        release objects, programs in build/bin/, the agent in build/ocf/
#   build/asan/   the same code with ASan+UBSan and -DHAVM_TESTING, plus tests
# `make check` uses the asan variant for everything it runs.

SHELL      := /bin/bash
.DEFAULT_GOAL := all

PREFIX     ?= /usr
DESTDIR    ?=
OCF_ROOT   ?= $(PREFIX)/lib/ocf
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/havm
VERSION    := 0.1.0

CC         ?= gcc
PKGS       := libqb libxml-2.0 json-c libiscsi fuse3 libcmap libquorum libcpg
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DHAVM_VERSION='"$(VERSION)"' \
              $(WARN) -I. $(PKG_CFLAGS) -MMD -MP
REL_CFLAGS := $(BASE_CFLAGS) -O2 -g
SAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -DHAVM_TESTING \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined
REL_LDFLAGS :=
SAN_LDFLAGS := -fsanitize=address,undefined

# --- module descriptions ------------------------------------------------------
LIBRARIES  :=
PROGRAMS   :=
UNIT_TESTS :=
FUZZERS    :=
BENCHES    :=
BENCH_SCRIPTS :=
INTEGRATION_TESTS :=
CLUSTER_TESTS :=
GUESTS     :=
include $(sort $(wildcard */module.mk */*/module.mk))

# --- templates -----------------------------------------------------------------
# $(1) variant root (build or build/asan), $(2) CFLAGS
define objects
$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $(2) -c $$< -o $$@
endef
# $(1) variant root, $(2) library name
define library
$(1)/lib/lib$(2).a: $$(patsubst %.c,$(1)/obj/%.o,$$($(2)_SRCS))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
# $(1) variant root, $(2) LDFLAGS, $(3) program name; <name>_LIBS in link order
define program
$(1)/bin/$(3): $$(patsubst %.c,$(1)/obj/%.o,$$($(3)_SRCS)) $$(foreach l,$$($(3)_LIBS),$(1)/lib/lib$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $(2) -o $$@ $$(filter %.o,$$^) -Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group \
	    $$(sort $$(foreach l,$$($(3)_LIBS),$$($$(l)_LDLIBS))) $$($(3)_LDLIBS)
endef

$(eval $(call objects,build,$(REL_CFLAGS)))
$(eval $(call objects,build/asan,$(SAN_CFLAGS)))
$(foreach v,build build/asan,$(foreach l,$(LIBRARIES),$(eval $(call library,$(v),$(l)))))
$(foreach p,$(PROGRAMS),$(eval $(call program,build,$(REL_LDFLAGS),$(p))))
$(foreach p,$(PROGRAMS),$(eval $(call program,build/asan,$(SAN_LDFLAGS),$(p))))

# Unit tests: cmocka, asan variant only; <name>_SRCS, <name>_LIBS, <name>_LDLIBS.
define unit_test
build/asan/tests/$(1): $$(patsubst %.c,build/asan/obj/%.o,$$($(1)_SRCS)) $$(foreach l,$$($(1)_LIBS),build/asan/lib/lib$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) $(SAN_LDFLAGS) -o $$@ $$(filter %.o,$$^) -Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group \
	    $$(sort $$(foreach l,$$($(1)_LIBS),$$($$(l)_LDLIBS))) $$($(1)_LDLIBS) -lcmocka
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test,$(t))))

# Fuzzers: clang libFuzzer; <name>_SRCS, <name>_LIBS_SRCS (sources compiled in).
FUZZ_CFLAGS := $(filter-out -MMD -MP,$(BASE_CFLAGS)) -O1 -g -DHAVM_TESTING -DHAVM_FUZZING \
               -fsanitize=fuzzer,address,undefined
define fuzzer
build/fuzz/$(1): $$($(1)_SRCS)
	@mkdir -p $$(@D)
	clang $(FUZZ_CFLAGS) -Wno-unused-command-line-argument -Wno-unknown-warning-option -o $$@ $$^ $$($(1)_LDLIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzzer,$(f))))

# Benchmarks: release flags; <name>_SRCS, <name>_LIBS.
define bench
build/bench/$(1): $$(patsubst %.c,build/obj/%.o,$$($(1)_SRCS)) $$(foreach l,$$($(1)_LIBS),build/lib/lib$$(l).a)
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $$(filter %.o,$$^) -Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group \
	    $$(sort $$(foreach l,$$($(1)_LIBS),$$($$(l)_LDLIBS))) $$($(1)_LDLIBS)
endef
$(foreach b,$(BENCHES),$(eval $(call bench,$(b))))

REL_PROGRAMS := $(addprefix build/bin/,$(PROGRAMS))
SAN_PROGRAMS := $(addprefix build/asan/bin/,$(PROGRAMS))
SAN_TESTS    := $(addprefix build/asan/tests/,$(UNIT_TESTS))

# --- user-facing targets -------------------------------------------------------
.PHONY: all check check-build test-unit test-integration test-cluster test-cpu \
        bench fuzz lint deps install uninstall clean demo guests

all: $(REL_PROGRAMS) build/ocf/havm/VirtualServer

build/ocf/havm/VirtualServer: build/bin/VirtualServer
	@mkdir -p $(@D)
	cp $< $@

check-build: $(SAN_PROGRAMS) $(SAN_TESTS) $(REL_PROGRAMS) build/ocf/havm/VirtualServer guests

# The README's test command. Every suite reports TAP; the runner prints the
# closing "N passed, N failed" line and fails on any failure.
check: check-build
	@tests/lib/run-suites.sh \
	    --unit "$(SAN_TESTS)" \
	    --integration "$(sort $(INTEGRATION_TESTS))" \
	    --cluster "$(sort $(CLUSTER_TESTS))"

test-unit: $(SAN_TESTS)
	@tests/lib/run-suites.sh --unit "$(SAN_TESTS)"

test-integration: check-build
	@tests/lib/run-suites.sh --integration "$(sort $(INTEGRATION_TESTS))"

test-cluster: check-build
	@tests/lib/run-suites.sh --cluster "$(sort $(CLUSTER_TESTS))"

guests: $(GUESTS)

bench: $(addprefix build/bench/,$(BENCHES)) $(REL_PROGRAMS) guests
	@tests/lib/run-benches.sh $(sort $(BENCH_SCRIPTS))

fuzz: $(addprefix build/fuzz/,$(FUZZERS))
	@tests/lib/run-fuzzers.sh $(or $(FUZZ_SECONDS),60) $(FUZZERS)

LINT_SRCS = $(sort $(foreach l,$(LIBRARIES),$($(l)_SRCS)) $(foreach p,$(PROGRAMS),$($(p)_SRCS)))
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -D__x86_64__ -I. \
	    --std=c11 $(LINT_SRCS)
	clang-tidy --quiet $(LINT_SRCS) -- $(filter-out -MMD -MP,$(REL_CFLAGS)) -Wno-unknown-warning-option

# Installs build and test packages with apt-get, non-interactively; idempotent.
deps:
	@tests/lib/install-deps.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(OCF_ROOT)/resource.d/havm
	install -m 0755 build/bin/vmm build/bin/havm $(DESTDIR)$(SBINDIR)/
	install -m 0755 build/bin/fence_havm $(DESTDIR)$(SBINDIR)/fence_havm
	install -m 0755 build/ocf/havm/VirtualServer $(DESTDIR)$(OCF_ROOT)/resource.d/havm/VirtualServer

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vmm $(DESTDIR)$(SBINDIR)/havm $(DESTDIR)$(SBINDIR)/fence_havm
	rm -f $(DESTDIR)$(OCF_ROOT)/resource.d/havm/VirtualServer

demo: all guests guest-linux
	@tests/cluster/demo.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' -type f 2>/dev/null)
