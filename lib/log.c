// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "log.h"

int xpro_log_level = XPRO_LOG_WARN;
const char *xpro_prog = "xpro";
