/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers shared by every libhusk module: cleanup attributes, allocation, fds, parsing. */
#ifndef HUSK_UTIL_H
#define HUSK_UTIL_H

#include "husk/husk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>

/* ---- cleanup attributes ---- */
void util_freep(void *p);
void util_closep(int *fd);
void util_fclosep(FILE **f);
void util_closedirp(DIR **d);
void util_strvfreep(char ***v);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(util_freep)
#define _cleanup_close_ _cleanup_(util_closep)
#define _cleanup_fclose_ _cleanup_(util_fclosep)
#define _cleanup_closedir_ _cleanup_(util_closedirp)
#define _cleanup_strv_ _cleanup_(util_strvfreep)

/* Move ownership out of a cleanup-tracked local. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp = (p);                                                           \
                (p) = NULL;                                                                        \
                _tp;                                                                               \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tf = (fd);                                                                    \
                (fd) = -1;                                                                         \
                _tf;                                                                               \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- allocation: the x* functions abort on out-of-memory ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- string vectors (NULL-terminated) ---- */
size_t strv_length(char *const *v);
void strv_free(char **v);
char **strv_copy(char *const *v, size_t n);

/* ---- errors ---- */
/* Set err from errno value e (positive) with a formatted context; returns -e. */
int util_syserr(husk_error_t *err, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- checked integer parsing (never atoi): whole string, base 10, range checked ---- */
int parse_int64(const char *s, int64_t *ret);
int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);
int parse_int(const char *s, int *ret);

/* ---- fds and files ---- */
/* Read a whole file (at most max bytes; -EFBIG past that) into a NUL-terminated buffer. */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Write the whole buffer to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Write a string to an existing file (open O_WRONLY|O_CLOEXEC|O_NOFOLLOW, no create). */
int write_file_at(int dirfd, const char *path, const char *data);
/* Atomically replace dirfd/path with data (write temp + fsync-less rename). */
int write_file_atomic_at(int dirfd, const char *path, const char *data, size_t len, mode_t mode);
/* mkdir -p of an absolute host path (not for paths inside a container rootfs). */
int mkdir_p(const char *path, mode_t mode);
/* rm -rf of dirfd/name without following symlinks or entering mounts (-EXDEV), at any depth
 * with a bounded number of open fds (util/rmrf.c). 0 when name is gone, else the first error. */
int rm_rf_at(int dirfd, const char *name);
/* Test only: raise SIGKILL when $HUSK_TEST_KILL_AT names this phase (tests/integration/killed.sh). */
void util_kill_point(const char *phase);
/* Monotonic clock in nanoseconds (for --debug timings). */
uint64_t now_ns(void);
/* The length of the longest valid UTF-8 prefix of str (RFC 3629: no overlong forms, surrogates
 * or code points past U+10FFFF). */
size_t utf8_valid_prefix(const char *str, size_t len);
/* Replaces each byte of s (may be NULL) that is not part of valid UTF-8 with '?': text a client
 * sent (a path, a query value) quoted in a JSON answer, which must be UTF-8 (RFC 8259). */
void utf8_scrub(char *s);
/* RFC 3339 UTC time with nanoseconds, e.g. 2026-11-29T01:32:44.247963276Z, into buf (>= 40). */
void format_rfc3339(char *buf, size_t len, bool nanos);

/* ---- rootless (util/rootless.c): who husk runs as ---- */
/* true for the text of the initial user namespace's uid_map ("0 0 4294967295"). */
bool util_idmap_is_identity(const char *text);
/* husk runs in a user namespace other than the initial one (someone else made it). */
bool util_in_userns(void);
/* After unshare(CLONE_NEWUSER): util_in_userns reads uid_map again. */
void util_userns_forget(void);
/* euid != 0, or root in a user namespace: cgroups, mknod and host-wide folders are out of reach. */
bool util_rootless(void);
/* $XDG_RUNTIME_DIR when absolute, else NULL. */
const char *util_runtime_dir(void);
/* Whether the default state root is $XDG_RUNTIME_DIR/husk (runc's rule): not for real root. */
bool util_honor_runtime_dir(void);
/* The per-user image store: $XDG_DATA_HOME/husk, else $HOME/.local/share/husk (allocated; NULL
 * without either). */
char *util_user_data_dir(void);
/* The caller's range in /etc/subuid (gids: /etc/subgid), by user name or uid: -ENOENT without
 * one. util_subid_parse does the same on the text (first matching, valid line). */
int util_subid_parse(const char *text, const char *name, uint32_t id, uint32_t *ret_start,
                     uint32_t *ret_count);
int util_subid_range(bool gids, uint32_t *ret_start, uint32_t *ret_count);

#endif
