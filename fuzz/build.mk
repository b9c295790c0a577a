# fuzz/: libFuzzer targets (docs/reliability.md, "Fuzzing"), built only by
# `make fuzz` and the fuzz BATS suite: clang with -fsanitize=fuzzer, ASan and
# UBSan (Debian: clang and libclang-rt-14-dev). Objects of the code under
# test are built again with the sanitizers into $(O)/fuzz/obj/.
FUZZ_CC      ?= $(CLANG)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(filter-out -O2 -Werror,$(USER_CFLAGS)) -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link $(FUZZ_SAN) -Isim
FUZZ_TARGETS := $(addprefix $(O)/fuzz/,fuzz_formats fuzz_config fuzz_replay fuzz_scn fuzz_xdp)
FUZZ_BINS    := $(FUZZ_TARGETS) $(O)/fuzz/seeds

$(O)/fuzz/obj/%.o: %.c | $(SKELS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

fuzz_objs = $(addprefix $(O)/fuzz/obj/,$(addsuffix .o,$(1)))

define fuzz_link
	$(call msg,FUZZLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ -o $@ $(1)
endef

$(O)/fuzz/fuzz_formats: $(call fuzz_objs,fuzz/fuzz_formats xpro/formats lib/json lib/addr)
	$(call fuzz_link)
$(O)/fuzz/fuzz_config: $(call fuzz_objs,fuzz/fuzz_config xpro/config xpro/rcluster xpro/xredis xpro/formats lib/json xpro/guard lib/log lib/addr)
	$(call fuzz_link,$(USER_LDLIBS))
$(O)/fuzz/fuzz_replay: $(call fuzz_objs,fuzz/fuzz_replay traffic/replay/replay_map lib/tunnel lib/inet6)
	$(call fuzz_link)
$(O)/fuzz/fuzz_scn: $(call fuzz_objs,fuzz/fuzz_scn sim/scn sim/sim xpro/merge xpro/agg xpro/formats lib/opt lib/json lib/log lib/addr)
	$(call fuzz_link,$(USER_LDLIBS) -lm)
$(O)/fuzz/fuzz_xdp: $(call fuzz_objs,fuzz/fuzz_xdp tests/bpf/harness tests/bpf/pkt lib/tunnel)
	$(call fuzz_link,$(USER_LDLIBS))

# The seed generator: an ordinary build (no fuzzer runtime).
$(O)/fuzz/seeds: $(O)/obj/fuzz/seeds.o $(addprefix $(O)/obj/,tests/bpf/harness.o tests/bpf/pkt.o lib/tunnel.o)
	$(call link,$(USER_LDLIBS) -lpcap)
