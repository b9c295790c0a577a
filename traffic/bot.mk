# traffic/bot.mk: xpro-bot, the Mirai bot emulator (docs/xpro-bot.md), and
# its fast-path XDP program bpf/botgen.bpf.c.
BOT_SRCS := traffic/bot.c traffic/botconn.c traffic/botlog.c traffic/vectors.c \
	traffic/rawsend.c traffic/fastpath.c traffic/safety.c traffic/tunnel.c
BOT_OBJS := $(BOT_SRCS:%.c=$(O)/obj/%.o)
BPF_OBJS += $(O)/bpf/botgen.bpf.o
SKELS    += $(O)/bpf/botgen.skel.h
BINS     += $(O)/bin/xpro-bot

$(O)/bin/xpro-bot: $(BOT_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ $(USER_LDLIBS)
