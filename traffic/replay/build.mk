# traffic/replay/: xpro-replay, the pcap/pcapng replayer (docs/xpro-replay.md).
REPLAY_OBJS := $(addprefix $(O)/obj/traffic/replay/,replay.o replay_map.o) \
	$(O)/obj/traffic/sink/sink_log.o $(addprefix $(O)/obj/lib/,safety.o tunnel.o opt.o json.o flowlog.o log.o inet6.o)
BINS += $(O)/bin/xpro-replay

$(O)/bin/xpro-replay: $(REPLAY_OBJS)
	$(call link,-lpcap)
