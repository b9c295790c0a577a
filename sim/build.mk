# sim/: xpro-sim, the discrete-event simulator that runs X-Pro's own decision
# (bpf/xpro_decide.h) and merge (xpro/merge.c) at Internet scale
# (docs/simulation.md). `make sim SWEEP=NAME [SCALE=ci]` runs a sweep.
BINS += $(O)/bin/xpro-sim

SIM_OBJS := $(addprefix $(O)/obj/sim/,main.o sim.o scn.o) \
	$(addprefix $(O)/obj/xpro/,merge.o agg.o formats.o) $(addprefix $(O)/obj/lib/,opt.o json.o addr.o)

$(O)/bin/xpro-sim: $(SIM_OBJS)
	$(call link,$(USER_LDLIBS) -lm)

.PHONY: sim
sim: $(O)/bin/xpro-sim ## simulator sweeps: make sim SWEEP=period|proxies|botshare|hopping|mapsize|policy|all|internet [SCALE=ci]
	$(Q)O=$(O) SCALE="$(SCALE)" bash sim/sweep.sh "$(SWEEP)"
