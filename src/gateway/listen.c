/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's listener: a stub until the gwdata work lands (gateway.h is the contract). */
#include "gateway.h"

#include <stdio.h>

int gateway_start(const gateway_opts *o, gateway **ret, unsigned *ret_port, char *why,
                  size_t why_len)
{
        (void)o;
        (void)ret_port;
        *ret = NULL;
        snprintf(why, why_len, "not built yet");
        return -1;
}

void gateway_stop(gateway *g)
{
        (void)g;
}
