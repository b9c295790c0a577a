# traffic/tun.mk: xpro-tun, the device side of the X-Pro tunnel (TC egress
# program bpf/tun_egress.bpf.c + command). traffic/tun_lib.o is shared with
# xpro-device (traffic/device.mk).
BPF_OBJS += $(O)/bpf/tun_egress.bpf.o
SKELS    += $(O)/bpf/tun_egress.skel.h
BINS     += $(O)/bin/xpro-tun
XTUN_LIB_OBJS := $(O)/obj/traffic/tun_lib.o $(O)/obj/traffic/safety.o

$(O)/bin/xpro-tun: $(O)/obj/traffic/tun.o $(XTUN_LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ $(USER_LDLIBS)

# tests/tools/xpt-resp: the victim-side responder of the tunnel and device
# tests (HTTP, CoAP-like, MQTT-like), until xpro-sink is there.
TEST_BINS += $(O)/tests/tools/xpt-resp

$(O)/tests/tools/xpt-resp: $(O)/obj/tests/tools/xpt-resp.o $(O)/obj/traffic/safety.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@
