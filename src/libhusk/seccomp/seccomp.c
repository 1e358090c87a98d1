/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER so the tree links: replaced by the seccomp module owner. */
#include "seccomp/seccomp.h"
#include "util/util.h"

int seccomp_compile(const config_seccomp *s, seccomp_prog **ret, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "seccomp not implemented yet");
}
int seccomp_load(const seccomp_prog *p, int *ret_notify_fd, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "seccomp not implemented yet");
}
int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "seccomp not implemented yet");
}
void seccomp_prog_free(seccomp_prog *p)
{
        if (p)
                free(p->insns);
        free(p);
}

char *seccomp_default_profile_json(void)
{
        return NULL;
}
