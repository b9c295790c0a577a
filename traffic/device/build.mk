# traffic/device/: xpro-device, many legitimate IoT devices (CoAP-like,
# MQTT-like) with per-device proxy failover through xpro-tun's maps.
BINS += $(O)/bin/xpro-device

$(O)/bin/xpro-device: $(O)/obj/traffic/device/device.o $(O)/obj/traffic/device/device_proto.o \
		$(O)/obj/traffic/tun/tun_lib.o $(addprefix $(O)/obj/lib/,safety.o opt.o json.o flowlog.o log.o tunnel.o inet6.o)
	$(call link,$(USER_LDLIBS) -lm)
