/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER so the tree links: replaced by the real yajl parser (config module owner). */
#include "config/config.h"
#include "util/util.h"

int config_parse(const char *json, size_t len, const char *fname, husk_config **ret,
                 husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "%s: config parser not implemented yet", fname);
}

int config_load_bundle(const char *bundle, husk_config **ret, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "%s/config.json: config parser not implemented yet",
                              bundle);
}

void config_free(husk_config *c)
{
        free(c);
}

const config_namespace *config_find_namespace(const husk_config *c, config_ns_type t)
{
        for (size_t i = 0; i < c->linux_.n_namespaces; i++)
                if (c->linux_.namespaces[i].type == t)
                        return &c->linux_.namespaces[i];
        return NULL;
}
