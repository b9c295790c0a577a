/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One BPF map definition for every BPF program of the project (the proxy,
 * the generators' halves, the bench's baselines), in libbpf's BTF-defined
 * form. After vmlinux.h and <bpf/bpf_helpers.h>:
 *
 *   XPRO_MAP(name, BPF_MAP_TYPE_..., max_entries, key type, value type);
 *
 * stands for struct { __uint(type, ...); __uint(max_entries, ...);
 * __type(key, ...); __type(value, ...); } name SEC(".maps"). A map of
 * another shape (a ring buffer, say) is written out where it is defined.
 */
#ifndef XPRO_BPF_MAP_H
#define XPRO_BPF_MAP_H

#define XPRO_MAP(name_, type_, entries_, key_, value_)	\
	struct {						\
		__uint(type, type_);				\
		__uint(max_entries, entries_);			\
		__type(key, key_);				\
		__type(value, value_);				\
	} name_ SEC(".maps")

#endif /* XPRO_BPF_MAP_H */
