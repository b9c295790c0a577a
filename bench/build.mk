# bench/: programs behind `make bench` (scripts/bench.sh runs them) and the
# baseline XDP programs they measure against (bench/baseline.bpf.c).
BPF_OBJS += $(O)/bpf/baseline.bpf.o
SKELS    += $(O)/bpf/baseline.skel.h
BENCH_BINS := $(O)/bench/bench-dataplane $(O)/bench/bench-sync
BINS_NOINSTALL := $(BENCH_BINS)

$(O)/bench/bench-dataplane: $(O)/obj/bench/dataplane.o $(O)/obj/tests/bpf/harness.o $(O)/obj/tests/bpf/pkt.o \
		$(O)/obj/lib/tunnel.o $(O)/obj/lib/opt.o $(O)/obj/xpro/config.o $(O)/obj/xpro/rcluster.o $(O)/obj/xpro/xredis.o $(O)/obj/xpro/formats.o $(O)/obj/lib/json.o $(O)/obj/xpro/guard.o $(O)/obj/xpro/log.o $(O)/obj/lib/log.o $(O)/obj/lib/addr.o
	$(call link,$(USER_LDLIBS))

$(O)/bench/bench-sync: $(O)/obj/bench/sync.o $(O)/obj/xpro/agg.o $(O)/obj/lib/opt.o $(O)/obj/lib/log.o $(O)/obj/lib/addr.o
	$(call link,$(USER_LDLIBS))
