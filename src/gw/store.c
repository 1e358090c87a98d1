/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's model in SQLite: a stub until the gwcore work lands (gw.h is the contract). */
#include "gw.h"

#include <stdio.h>

int gw_store_open(const char *path, gw_store **ret, gw_error *err)
{
        (void)path;
        *ret = NULL;
        err->code = GW_E_INTERNAL;
        snprintf(err->msg, sizeof(err->msg), "not built yet");
        return -1;
}

void gw_store_close(gw_store *s)
{
        (void)s;
}
