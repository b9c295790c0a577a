# xpro/: the `xpro` command.
XPRO_SRCS := $(wildcard xpro/*.c)
XPRO_OBJS := $(XPRO_SRCS:%.c=$(O)/obj/%.o)
XPRO_LIB_OBJS := $(filter-out $(O)/obj/xpro/main.o,$(XPRO_OBJS))
BINS += $(O)/bin/xpro

$(XPRO_OBJS): $(SKELS)

$(O)/bin/xpro: $(XPRO_OBJS) $(O)/obj/lib/opt.o
	$(call link,$(USER_LDLIBS))
