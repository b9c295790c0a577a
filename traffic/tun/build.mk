# traffic/tun/: xpro-tun, the device side of the X-Pro tunnel (TC egress
# program traffic/tun/tun_egress.bpf.c + command). tun_lib.o is shared with
# xpro-device (traffic/device/build.mk).
BPF_OBJS += $(O)/bpf/tun_egress.bpf.o
SKELS    += $(O)/bpf/tun_egress.skel.h
BINS     += $(O)/bin/xpro-tun
XTUN_LIB_OBJS := $(O)/obj/traffic/tun/tun_lib.o $(addprefix $(O)/obj/lib/,safety.o opt.o json.o log.o tunnel.o)

$(O)/bin/xpro-tun: $(O)/obj/traffic/tun/tun.o $(XTUN_LIB_OBJS)
	$(call link,$(USER_LDLIBS))

# tests/tools/xpt-resp: the victim-side responder of the tunnel and device
# tests (HTTP, CoAP-like, MQTT-like).
TEST_BINS += $(O)/tests/tools/xpt-resp

$(O)/tests/tools/xpt-resp: $(O)/obj/tests/tools/xpt-resp.o $(addprefix $(O)/obj/lib/,safety.o opt.o log.o)
	$(call link)
