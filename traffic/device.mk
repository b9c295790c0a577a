# traffic/device.mk: xpro-device, many legitimate IoT devices (CoAP-like,
# MQTT-like) with per-device proxy failover through xpro-tun's maps.
BINS += $(O)/bin/xpro-device

$(O)/bin/xpro-device: $(O)/obj/traffic/device.o $(O)/obj/traffic/device_proto.o \
		$(O)/obj/traffic/tun_lib.o $(O)/obj/traffic/safety.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $^ -o $@ $(USER_LDLIBS) -lm
