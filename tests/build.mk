# tests/: C unit tests (unit/) and BPF test-run tests (bpf/), TAP output.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(wildcard tests/unit/*.c))
BPFT_TESTS := $(patsubst tests/bpf/%.c,$(O)/tests/bpf/%,$(wildcard tests/bpf/test_*.c))
BPFT_LIB   := $(patsubst %.c,$(O)/obj/%.o,$(filter-out $(wildcard tests/bpf/test_*.c),$(wildcard tests/bpf/*.c)))
TEST_BINS  += $(UNIT_TESTS) $(BPFT_TESTS)


$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(BPFT_LIB) $(XPRO_LIB_OBJS) $(addprefix $(O)/obj/lib/,tunnel.o opt.o json.o log.o)
	$(call link,$(USER_LDLIBS))

$(O)/tests/bpf/%: $(O)/obj/tests/bpf/%.o $(BPFT_LIB) $(XPRO_LIB_OBJS) $(addprefix $(O)/obj/lib/,tunnel.o json.o log.o)
	$(call link,$(USER_LDLIBS))

# Test tools (bounded senders and receivers used by the BATS suites).
TEST_TOOLS := $(O)/tests/tools/xpt-udp
TEST_BINS  += $(TEST_TOOLS)

$(O)/tests/tools/xpt-udp: $(O)/obj/tests/tools/xpt-udp.o $(addprefix $(O)/obj/lib/,safety.o tunnel.o opt.o log.o inet6.o)
	$(call link)

# tests/tools/xpt-cluster: drives xpro's Redis Cluster client (47-cluster-client.bats).
TEST_TOOLS += $(O)/tests/tools/xpt-cluster
TEST_BINS  += $(O)/tests/tools/xpt-cluster

$(O)/tests/tools/xpt-cluster: $(O)/obj/tests/tools/xpt-cluster.o $(XPRO_LIB_OBJS) $(addprefix $(O)/obj/lib/,opt.o json.o log.o)
	$(call link,$(USER_LDLIBS))
