/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER so the tree links: replaced by the hooks owner. Hooks in a config are refused. */
#include "process/hooks.h"
#include "util/util.h"

const char *hooks_kind_name(config_hook_kind kind)
{
        static const char *const names[HOOK_KIND_COUNT] = {
                "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        };
        return kind < HOOK_KIND_COUNT ? names[kind] : "unknown";
}

int hooks_run(const config_hooks *h, config_hook_kind kind, const char *state_json,
              husk_error_t *err)
{
        if (h->n_hooks[kind] == 0)
                return 0;
        return husk_error_set(err, ENOSYS, "hooks not implemented yet");
}
