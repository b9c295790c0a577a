# X-Pro: distributed XDP proxies against IoT botnets.
# `make help` lists the targets. Out-of-tree build in $(O) (default build/).

# SANITIZE=1: userspace with AddressSanitizer and UndefinedBehaviorSanitizer
# (its own build folder, build-san); `make test SANITIZE=1` runs the unit
# tests and the sync suites on it (docs/reliability.md, "Sanitizers").
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O        ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
O        ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
V        ?= 0
NODEPS   ?= 0

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:
.DEFAULT_GOAL := all

# Every folder with sources is on the include path: headers are included by
# bare name. lib/ holds what the userspace tools share.
SRC_DIRS  := lib bpf xpro traffic/bot traffic/device traffic/replay traffic/sink \
	traffic/tun tests/lib tests/bpf bench
PKGS      := libbpf libelf zlib libnl-genl-3.0 hiredis libmicrohttpd
USER_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Werror -MMD -MP \
	-D_GNU_SOURCE $(addprefix -I,$(SRC_DIRS)) -I$(O)/bpf \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
USER_CFLAGS += $(SAN_FLAGS)
USER_LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lelf -lz)
BPF_CFLAGS  := -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Wextra -Werror \
	-MMD -MP -I$(O)/include $(addprefix -I,$(SRC_DIRS))

# Filled by the per-folder fragments.
BINS :=
TEST_BINS :=
BPF_OBJS :=
SKELS :=

# link OBJS... [EXTRA_LIBS]: the one link recipe, $(call link,$(USER_LDLIBS)).
define link
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ $(1) $(SAN_FLAGS)
endef

include bpf/build.mk
include xpro/build.mk
include tests/build.mk
include bench/build.mk
include topo/build.mk
include sim/build.mk
# traffic/: one folder per program (generators, sink, replay, device-side tunnel)
include $(sort $(wildcard traffic/*/build.mk))
include fuzz/build.mk

FUZZ_SECONDS := $(or $(SECONDS),60)

.PHONY: fuzz lint all build deps test test-faults bench bench-compare experiment compare matrix analyze install clean help check-docs vagrant-check deb-check

all: deps build ## install missing packages, then build everything

build: $(BINS) $(TEST_BINS) $(BINS_NOINSTALL) ## build without the dependency check

deps: ## install the Debian packages X-Pro needs (idempotent)
ifeq ($(NODEPS),0)
	$(Q)bash scripts/deps.sh
endif

test: deps build ## run every test; last line: N passed, N failed (SANITIZE=1: unit and sync tests under ASan/UBSan)
	$(Q)O=$(O) bash tests/run.sh $(if $(filter 1,$(SANITIZE)),sanitize)

test-faults: deps build ## SIGKILL the sync daemons 50 times mid-attack (docs/reliability.md)
	$(Q)XPRO_BUILD=$(O) XPRO_FAULT_KILLS=50 timeout 1800 bats --tap tests/bats/44-faults.bats

fuzz: deps $(SKELS) $(FUZZ_BINS) ## libFuzzer targets under ASan/UBSan, SECONDS=60 split across them (docs/reliability.md)
	$(Q)O=$(O) bash fuzz/run.sh $(FUZZ_SECONDS)

lint: ## cppcheck and shellcheck over the tree: zero findings, or justified in .lint-suppressions
	$(Q)bash scripts/lint.sh

bench: deps build ## measure speed as ratios against baselines: results/bench/latest.json
	$(Q)O=$(O) bash scripts/bench.sh

bench-compare: ## each bench key's change between two runs: A=STAMP B=STAMP (results/bench/history/)
	$(Q)bash bench/compare.sh "$(A)" "$(B)"

experiment: deps build ## run one scenario: make experiment SCENARIO=flood [DEFENSE= DURATION= SEED= SEEDS= TESTBED=mininet MASTER=cluster]
	$(Q)XPRO_BUILD=$(O) DEFENSE="$(DEFENSE)" DURATION="$(DURATION)" SEED="$(SEED)" SEEDS="$(SEEDS)" \
		TESTBED="$(TESTBED)" MASTER="$(MASTER)" /usr/bin/python3 experiments/xpro-exp run "$(SCENARIO)"

compare: deps build ## every defense on one scenario: make compare SCENARIO=flood [MASTER=cluster]
	$(Q)XPRO_BUILD=$(O) DEFENSES="$(DEFENSES)" DURATION="$(DURATION)" SEED="$(SEED)" SEEDS="$(SEEDS)" \
		TESTBED="$(TESTBED)" MASTER="$(MASTER)" /usr/bin/python3 experiments/xpro-exp compare "$(SCENARIO)"

matrix: deps build ## every scenario x every defense, resumable: make matrix [SEEDS=3 SCALE=ci SCENARIOS= DEFENSES= NEW=1]
	$(Q)XPRO_BUILD=$(O) SEEDS="$(or $(SEEDS),3)" SCALE="$(SCALE)" SCENARIOS="$(SCENARIOS)" DEFENSES="$(DEFENSES)" \
		/usr/bin/python3 experiments/xpro-exp matrix $(if $(NEW),--new)

analyze: ## re-analyse a run from its raw files: make analyze RUN=results/flood/latest
	$(Q)/usr/bin/python3 experiments/xpro-exp analyze "$(RUN)"

deb-check: ## build the .deb packages (debian/), install xpro in a fresh mmdebstrap root, run it there
	$(Q)bash scripts/deb-check.sh

vagrant-check: ## boot a Debian VM (RELEASE=bookworm|trixie, MULTI=1), test in it: vagrant/README.md
	$(Q)bash vagrant/check.sh

install: build ## install binaries into $(DESTDIR)$(PREFIX)/bin
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/xpro
	$(Q)install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	$(Q)install -m 0644 docs/xpro.conf.example $(DESTDIR)$(PREFIX)/share/xpro/

check-docs: ## every Markdown link and every path a doc or comment names exists
	$(Q)bash scripts/check-docs.sh

clean: ## remove the build folder
	$(Q)rm -rf $(O)

help: ## this list
	@echo "X-Pro make targets (O=$(O) PREFIX=$(PREFIX) V=0|1 NODEPS=0|1):"
	@grep -hE '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | \
		awk -F'\t' '{printf "  %-12s %s\n", $$1, $$2}'

# vmlinux.h from the running kernel's BTF.
$(O)/include/vmlinux.h: /sys/kernel/btf/vmlinux
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@

# Every BPF program, wherever its folder (bpf/ the proxy, traffic/*/ the
# generators' halves, bench/ the baselines), builds into $(O)/bpf/.
vpath %.bpf.c $(SRC_DIRS)
$(O)/bpf/%.bpf.o: %.bpf.c $(O)/include/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(O)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

-include $(shell find $(O) -name '*.d' 2>/dev/null)
