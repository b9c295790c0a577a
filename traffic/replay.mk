# traffic/replay.mk: xpro-replay, the pcap/pcapng replayer (docs/xpro-replay.md).
REPLAY_OBJS := $(addprefix $(O)/obj/traffic/,replay.o replay_map.o sink_log.o safety.o tunnel.o)
BINS += $(O)/bin/xpro-replay

$(O)/bin/xpro-replay: $(REPLAY_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ -lpcap
