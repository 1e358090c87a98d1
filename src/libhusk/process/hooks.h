/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks: path, args, env, timeout; the container state JSON on stdin. */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include "config/oci_config.h"

typedef struct hooks_opts {
        int cwd_fd;       /* the hooks' working directory (fchdir), or -1: the caller's */
        char **default_env; /* for a hook without "env" (NULL: an empty environment) */
} hooks_opts;

/* Run the hooks of one kind in order, in the caller's namespaces. The first failure stops and
 * returns an error naming the hook kind, index and path. hooks_run: the caller's cwd; a hook
 * without "env" gets the caller's environment when it runs on the host side (prestart,
 * createRuntime, poststart, poststop: runc and crun pass theirs), else none (the container side
 * passes process.env in hooks_opts, as runc's init does). */
int hooks_run(const config_hooks *h, config_hook_kind kind, const char *state_json,
              husk_error_t *err);
int hooks_run_ex(const config_hooks *h, config_hook_kind kind, const char *state_json,
                 const hooks_opts *o, husk_error_t *err);
/* Every hook of one kind, in order, even after one fails (poststop: runtime-spec says a failing
 * hook is logged as a warning and the remaining hooks run); each failure goes to warn(ctx, err).
 * Returns how many failed. Host side, the caller's cwd and environment, as hooks_run. */
size_t hooks_run_each(const config_hooks *h, config_hook_kind kind, const char *state_json,
                      void (*warn)(void *ctx, const husk_error_t *err), void *ctx);
/* true for the kinds that run on the host side. */
bool hooks_kind_on_host(config_hook_kind kind);
const char *hooks_kind_name(config_hook_kind kind);

#endif
