/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks: path, args, env, timeout; the container state JSON on stdin. */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include "config/oci_config.h"

/* Run the hooks of one kind in order, in the caller's namespaces. The first failure stops and
 * returns an error naming the hook kind, index and path. */
int hooks_run(const config_hooks *h, config_hook_kind kind, const char *state_json,
              husk_error_t *err);
const char *hooks_kind_name(config_hook_kind kind);

#endif
