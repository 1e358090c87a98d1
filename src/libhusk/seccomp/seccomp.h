/* SPDX-License-Identifier: Apache-2.0 */
/* Seccomp: the OCI seccomp object compiled with libseccomp on the host side (cached by digest),
 * loaded on the container side as the last step before execve. */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include "config/oci_config.h"

#include <linux/filter.h>

typedef struct seccomp_prog {
        struct sock_filter *insns;
        size_t len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        bool notify;        /* some rule uses SCMP_ACT_NOTIFY: load returns a listener fd */
        bool cached;        /* added: insns came from the compiled-filter cache (no libseccomp run) */
} seccomp_prog;

/* Host side, before clone. */
int seccomp_compile(const config_seccomp *s, seccomp_prog **ret, husk_error_t *err);
/* Container side: last step before execve (after no_new_privs). *ret_notify_fd gets the listener
 * fd when prog->notify, else -1.
 * The kernel refuses a filter (EACCES) from a task that has neither no_new_privs nor
 * CAP_SYS_ADMIN: when the config has noNewPrivileges false (podman's default), load the filter
 * before the capabilities are dropped, as runc does. */
int seccomp_prog_load(const seccomp_prog *p, int *ret_notify_fd, husk_error_t *err);
/* Host side: send the notify fd and the container state JSON to linux.seccomp.listenerPath. */
int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          husk_error_t *err);
void seccomp_prog_free(seccomp_prog *p);
/* The default profile `husk spec` writes: an OCI linux.seccomp JSON object, allocated. */
char *seccomp_default_profile_json(void);

/* ---- added by the seccomp module (helpers for tests, tools and the process module) ---- */

/* Like seccomp_send_listener, with linux.seccomp.listenerMetadata (may be NULL) in the
 * containerProcessState message. */
int seccomp_send_listener_md(const char *listener_path, const char *metadata, int notify_fd,
                             const char *state_json, husk_error_t *err);
/* The two halves of seccomp_send_listener_md: connect to listenerPath (host side, a CLOEXEC
 * socket), and send the message with the notify fd on it (sendmsg only, usable under a filter
 * that notifies on write). */
int seccomp_listener_connect(const char *listener_path, int *ret_fd, husk_error_t *err);
int seccomp_listener_send(int sock, const char *msg, int notify_fd, husk_error_t *err);
/* The containerProcessState JSON sent to the listener (pid taken from state_json), allocated. */
char *seccomp_listener_message(const char *metadata, const char *state_json);

/* Compile without touching the cache (cache_dir NULL) or with an explicit cache dir.
 * seccomp_compile uses $HUSK_SECCOMP_CACHE, else SECCOMP_CACHE_DIR. */
#define SECCOMP_CACHE_DIR "/run/husk/seccomp-cache"
int seccomp_compile_cache(const config_seccomp *s, const char *cache_dir, seccomp_prog **ret,
                          husk_error_t *err);
/* SHA-256 (hex, 65 bytes with the NUL) of the canonical serialisation of the profile, the
 * libseccomp version and the native arch: the cache key. */
void seccomp_cache_key(const config_seccomp *s, char ret_hex[65]);

/* libseccomp value of an OCI action (errno_ret used by ERRNO and TRACE); -EINVAL if unknown. */
int seccomp_action_value(config_seccomp_action a, bool has_errno_ret, uint32_t errno_ret,
                         uint32_t *ret);
/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_* token; 0 when unknown. */
uint32_t seccomp_arch_from_name(const char *name);
/* "SECCOMP_FILTER_FLAG_LOG" -> SECCOMP_FILTER_FLAG_* bit; 0 when unknown. */
unsigned int seccomp_flag_from_name(const char *name);

/* Run a classic-BPF seccomp program on one syscall (an interpreter for tests and tools):
 * returns the SECCOMP_RET_* value, or SECCOMP_RET_KILL_PROCESS on a malformed program. */
uint32_t seccomp_prog_eval(const seccomp_prog *p, uint32_t arch, int nr, const uint64_t args[6]);

#endif
