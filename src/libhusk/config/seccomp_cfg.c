/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: TEMPORARY stub, the real parser follows. */
#include "config/internal.h"

void config_seccomp_free(config_seccomp *s)
{
        free(s);
}

int config_parse_seccomp_obj(jctx *c, yajl_val v, const char *path, config_seccomp **ret)
{
        (void)c;
        (void)v;
        (void)path;
        *ret = NULL;
        return 0;
}

char *config_default_spec(bool rootless)
{
        (void)rootless;
        return NULL;
}
