# traffic/bot/: xpro-bot, the Mirai bot emulator (docs/xpro-bot.md), and its
# fast-path XDP program traffic/bot/botgen.bpf.c.
BOT_SRCS := $(addprefix traffic/bot/,bot.c botconn.c botlog.c vectors.c rawsend.c fastpath.c) \
	lib/safety.c lib/tunnel.c lib/opt.c lib/json.c lib/flowlog.c lib/log.c lib/inet6.c
BOT_OBJS := $(BOT_SRCS:%.c=$(O)/obj/%.o)
BPF_OBJS += $(O)/bpf/botgen.bpf.o
SKELS    += $(O)/bpf/botgen.skel.h
BINS     += $(O)/bin/xpro-bot

$(O)/bin/xpro-bot: $(BOT_OBJS)
	$(call link,$(USER_LDLIBS))
