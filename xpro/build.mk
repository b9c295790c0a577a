# xpro/: the `xpro` command.
XPRO_SRCS := $(wildcard xpro/*.c)
# The master's Lua (xpro/master.lua), embedded as C strings (xpro/master.h).
# lib/addr.c (struct xpro_addr's text form, lib/addr.h) goes with the
# sync's formats everywhere they are linked.
XPRO_OBJS := $(XPRO_SRCS:%.c=$(O)/obj/%.o) $(O)/obj/xpro/master-lua.o $(O)/obj/lib/addr.o
XPRO_LIB_OBJS := $(filter-out $(O)/obj/xpro/main.o,$(XPRO_OBJS))
BINS += $(O)/bin/xpro

$(XPRO_OBJS): $(SKELS)

$(O)/gen/xpro/master-lua.c: xpro/master.lua xpro/embed-lua.awk
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)awk -f xpro/embed-lua.awk $< > $@

$(O)/obj/xpro/master-lua.o: $(O)/gen/xpro/master-lua.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(O)/bin/xpro: $(XPRO_OBJS) $(addprefix $(O)/obj/lib/,opt.o json.o log.o)
	$(call link,$(USER_LDLIBS))
