/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources (LinuxResources): TEMPORARY stub, the real parser follows. */
#include "config/internal.h"

void config_resources_free(config_resources *r)
{
        free(r);
}

int config_parse_resources_obj(jctx *c, yajl_val v, const char *path, config_resources **ret)
{
        (void)c;
        (void)v;
        (void)path;
        *ret = NULL;
        return 0;
}

int config_parse_resources(const char *json, size_t len, const char *fname,
                           config_resources **ret, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "%s: not implemented yet", fname);
}
