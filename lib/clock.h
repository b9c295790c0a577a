/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The clocks every X-Pro tool reads, in one place: monotonic time for
 * bounds, pacing and durations; wall-clock (realtime) time for log and
 * summary timestamps; TAI for the proxy's records (the BPF side stamps
 * them with bpf_ktime_get_tai_ns()).
 */
#ifndef XP_CLOCK_H
#define XP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t xp_clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* seconds as a double, with the nanoseconds */
static inline double xp_clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t xp_mono_ns(void) { return xp_clock_ns(CLOCK_MONOTONIC); }
static inline uint64_t xp_real_ns(void) { return xp_clock_ns(CLOCK_REALTIME); }
static inline uint64_t xp_tai_ns(void) { return xp_clock_ns(CLOCK_TAI); }
static inline double xp_mono_s(void) { return xp_clock_s(CLOCK_MONOTONIC); }
static inline double xp_real_s(void) { return xp_clock_s(CLOCK_REALTIME); }
/* Unix time in whole milliseconds and whole seconds */
static inline int64_t xp_real_ms(void) { return (int64_t)(xp_real_ns() / 1000000ULL); }
static inline int64_t xp_real_sec(void) { return (int64_t)(xp_real_ns() / 1000000000ULL); }

#endif
