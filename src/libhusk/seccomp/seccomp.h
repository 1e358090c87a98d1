/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp: the OCI seccomp object compiled with libseccomp on the host side (cached by digest),
 * loaded on the container side as the last step before execve. */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include "config/config.h"

#include <linux/filter.h>

typedef struct seccomp_prog {
        struct sock_filter *insns;
        size_t len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        bool notify;        /* some rule uses SCMP_ACT_NOTIFY: load returns a listener fd */
} seccomp_prog;

/* Host side, before clone. */
int seccomp_compile(const config_seccomp *s, seccomp_prog **ret, husk_error_t *err);
/* Container side: last step before execve (after no_new_privs). *ret_notify_fd gets the listener
 * fd when prog->notify, else -1. */
int seccomp_load(const seccomp_prog *p, int *ret_notify_fd, husk_error_t *err);
/* Host side: send the notify fd and the container state JSON to linux.seccomp.listenerPath. */
int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          husk_error_t *err);
void seccomp_prog_free(seccomp_prog *p);
/* The default profile `husk spec` writes: an OCI linux.seccomp JSON object, allocated. */
char *seccomp_default_profile_json(void);

#endif
