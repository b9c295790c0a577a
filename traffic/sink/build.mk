# traffic/sink/: xpro-sink, the victim service (docs/xpro-sink.md).
SINK_OBJS := $(addprefix $(O)/obj/traffic/sink/,sink.o sink_log.o sink_proto.o sink_ring.o) \
	$(addprefix $(O)/obj/lib/,safety.o opt.o json.o flowlog.o log.o inet6.o)
BINS += $(O)/bin/xpro-sink

$(O)/bin/xpro-sink: $(SINK_OBJS)
	$(call link)
