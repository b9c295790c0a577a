# bench/: programs behind `make bench` (scripts/bench.sh runs them).
BENCH_BINS := $(O)/bench/bench-dataplane $(O)/bench/bench-sync
BINS_NOINSTALL := $(BENCH_BINS)


$(O)/bench/bench-dataplane: $(O)/obj/bench/dataplane.o $(O)/obj/tests/bpf/harness.o $(O)/obj/tests/bpf/pkt.o $(O)/obj/traffic/tunnel.o \
		$(O)/obj/xpro/config.o $(O)/obj/xpro/log.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ $(USER_LDLIBS)

$(O)/bench/bench-sync: $(O)/obj/bench/sync.o $(O)/obj/xpro/agg.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ $(USER_LDLIBS)
