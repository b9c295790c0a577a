# topo/: testbed topologies. xpro-topo is a bash script (topo/xpro-topo, linked
# into $(O)/bin so that it finds xpro and its probe next to it); the probe
# reads XDP features and NAPI instances from the kernel's netdev netlink family
# (the requests are xpro/netlink.c's, shared with `xpro attach`).
# xpro-topo-ping: a bounded ICMP echo (iputils-ping is not among the deps).
TOPO_BINS := $(O)/bin/xpro-topo-probe $(O)/bin/xpro-topo-ping $(O)/bin/xpro-topo $(O)/bin/xpro-redis
BINS += $(TOPO_BINS)

$(O)/bin/xpro-topo-probe: $(O)/obj/topo/probe.o $(O)/obj/xpro/netlink.o $(O)/obj/lib/opt.o $(O)/obj/lib/log.o
	$(call link,$(USER_LDLIBS))

$(O)/bin/xpro-topo-ping: $(O)/obj/topo/ping.o $(addprefix $(O)/obj/lib/,safety.o opt.o log.o)
	$(call link)

$(O)/bin/xpro-topo: topo/xpro-topo
	$(call msg,LN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)ln -sfn $(abspath topo/xpro-topo) $@

# the one redis-server launcher (scripts/xpro-redis), installed beside xpro-topo
$(O)/bin/xpro-redis: scripts/xpro-redis
	$(call msg,LN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)ln -sfn $(abspath scripts/xpro-redis) $@

# make install: the topology model, the topologies and the Mininet script go
# to share/xpro/, where an installed xpro-topo looks for them (../share/xpro/
# next to its bin/; the model looks in its own topo/, the Mininet script
# imports the model from its parent folder).
.PHONY: install-topo
install: install-topo
install-topo:
	$(Q)install -d $(DESTDIR)$(PREFIX)/share/xpro/topo $(DESTDIR)$(PREFIX)/share/xpro/mininet
	$(Q)install -m 0644 topo/topologies/*.topo $(DESTDIR)$(PREFIX)/share/xpro/topo/
	$(Q)install -m 0755 topo/xpro_topo_model.py $(DESTDIR)$(PREFIX)/share/xpro/
	$(Q)install -m 0755 topo/mininet/xpro_topo.py $(DESTDIR)$(PREFIX)/share/xpro/mininet/
