# bpf/: the XDP program and the bench baselines; skeletons go to $(O)/bpf.
BPF_OBJS += $(O)/bpf/xpro.bpf.o $(O)/bpf/baseline.bpf.o
SKELS    += $(O)/bpf/xpro.skel.h $(O)/bpf/baseline.skel.h
