/* SPDX-License-Identifier: Apache-2.0 */
/* Schedules: a stub until the sched work lands (sched.h is the contract). */
#include "sched.h"

#include <stdio.h>

int sched_open(const sched_opts *o, sched_engine **ret, char *why, size_t why_len)
{
        (void)o;
        *ret = NULL;
        snprintf(why, why_len, "not built yet");
        return -1;
}

int sched_start(sched_engine *s, char *why, size_t why_len)
{
        (void)s;
        snprintf(why, why_len, "not built yet");
        return -1;
}

void sched_stop(sched_engine *s)
{
        (void)s;
}

void sched_close(sched_engine *s)
{
        (void)s;
}
