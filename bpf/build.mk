# bpf/: the X-Pro proxy's XDP program; skeletons go to $(O)/bpf.
BPF_OBJS += $(O)/bpf/xpro.bpf.o
SKELS    += $(O)/bpf/xpro.skel.h
