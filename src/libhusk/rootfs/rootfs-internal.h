/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers of the rootfs module (not a contract with other modules). */
#ifndef HUSK_ROOTFS_INTERNAL_H
#define HUSK_ROOTFS_INTERNAL_H

#include "rootfs/rootfs.h"
#include "util/util.h"

#include <sys/stat.h>

/* ---- safe.c: resolving paths inside the rootfs by fd ---- */
/* Test hook: when true, safe_open_in_root never uses openat2 (exercises the checked fallback). */
extern bool rootfs_force_fallback;

/* Open PATH (absolute or relative, interpreted inside the root) with O_PATH|O_CLOEXEC|extra, every
 * symlink (including the last component, unless nofollow_last) resolved as if rootfd were "/".
 * Returns an fd or a negative errno. Never leaves the root (CVE-2021-30465). */
int safe_open_in_root(int rootfd, const char *path, int extra_flags, bool nofollow_last);
/* PATH resolved inside the root as far as it exists (every symlink expanded, the last one too),
 * the missing tail appended: an allocated symlink-free in-root path, or NULL and *ret_err. */
char *safe_resolve_in_root(int rootfd, const char *path, int *ret_err);
/* mkdir -p inside the root (through dangling image symlinks: their targets are created inside); returns an O_PATH|O_DIRECTORY fd of the last directory. */
int safe_mkdir_p_in_root(int rootfd, const char *path, mode_t mode);
/* Create PATH as an empty regular file when missing (its parents as directories); returns an O_PATH
 * fd of it (it may already exist as any non-symlink type). */
int safe_create_file_in_root(int rootfd, const char *path, mode_t mode);
/* Split a path into its parent (an O_PATH dir fd resolved in root, parents created when mkdir) and
 * base name (allocated, no '/'). Rejects "", "/", "." and "..". */
int safe_open_parent_in_root(int rootfd, const char *path, bool mkdir, int *ret_dirfd,
                             char **ret_base);

/* "/proc/self/fd/N" for mount(2) onto or from an fd. */
#define FD_PATH_MAX 32
const char *fd_path(char buf[FD_PATH_MAX], int fd);

/* ---- mounts.c ---- */
/* Clone the mount tree at srcfd (recursive or not) and attach it onto dstfd; then apply flags to
 * the new mount. New mount API first (atomic), mount(2) through /proc/self/fd as fallback. */
int bind_fd_onto_fd(int srcfd, int dstfd, const mount_flags *f, husk_error_t *err,
                    const char *what);
/* Apply flags to a detached tree (open_tree) and attach it onto dstfd (move_mount). */
int attach_tree(int tree, int dstfd, const mount_flags *f, husk_error_t *err, const char *what);
/* mount_setattr / remount of the mount whose root is fd (an fd opened after mounting). */
int mount_fd_set_flags(int fd, unsigned long set, unsigned long clr, bool recursive,
                       husk_error_t *err, const char *what);
/* Propagation change of the mount whose root is fd. */
int mount_fd_propagation(int fd, unsigned long propagation, husk_error_t *err, const char *what);
/* OCI propagation enum to MS_* (0 when unset). */
unsigned long rootfs_propagation_flags(config_propagation p);
/* Canonical in-root path, allocated: "/" + components, no "." / ".." / "//" (lexical, ".." at the
 * top stays at "/"). Used to compare config destinations ("/dev/" is "/dev") and to split paths. */
char *rootfs_clean_path(const char *path);

/* mountinfo's octal escapes (\040 for space, ...) undone in place (pivot.c). */
void rootfs_unescape_mountinfo(char *s);
/* path equals prefix or is below it ("/" is everything's prefix). */
bool rootfs_path_has_prefix(const char *path, const char *prefix);
/* The mount that holds path (longest mount point above it) made private, non-recursively. */
int rootfs_make_parent_private(const char *path, husk_error_t *err);

/* ---- copyup.c ---- */
/* Copy the content of the covered directory (under_fd, any fd of it) into the tmpfs just mounted
 * over it (tmpfs_fd); the tmpfs root gets the directory's owner, and its mode unless keep_mode. */
int rootfs_copyup(int under_fd, int tmpfs_fd, bool keep_mode, husk_error_t *err, const char *dest);

/* ---- dev.c ---- */
int rootfs_setup_dev(rootfs_ctx *c, bool dev_is_tmpfs, husk_error_t *err);

/* ---- cgroup mount (cgmount.c) ---- */
int rootfs_mount_cgroup(rootfs_ctx *c, const char *dest, const mount_flags *f, int dstfd,
                        husk_error_t *err);

#endif
