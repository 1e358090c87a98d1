/* SPDX-License-Identifier: Apache-2.0 */
/* Start sequence step 9: linux.maskedPaths and linux.readonlyPaths. Container side, in the
 * container's mount namespace, after the mounts and createContainer hooks, before the pivot. */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>

static bool is_dev_null(int fd)
{
        struct stat st;
        return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

/* The host's /dev/null (we have not pivoted yet), verified to be the 1:3 char device: an image
 * cannot substitute it (CVE-2025-31133 replaced the container's /dev/null with a symlink). */
static int open_dev_null(husk_error_t *err)
{
        _cleanup_close_ int fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open /dev/null");
        if (!is_dev_null(fd))
                return husk_error_set(err, EINVAL, "/dev/null is not the 1:3 character device");
        return TAKE_FD(fd);
}

static int mask_one(rootfs_ctx *c, const char *path, int *nullfd, husk_error_t *err)
{
        /* resolved in root: a masked path that is a symlink to a "host" file stays in the root */
        _cleanup_close_ int fd = safe_open_in_root(c->rootfs_fd, path, 0, false);
        if (fd == -ENOENT)
                return 0; /* runtime-spec: missing masked paths are skipped */
        if (fd < 0)
                return util_syserr(err, -fd, "open masked path %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return util_syserr(err, errno, "stat masked path %s", path);
        char p[FD_PATH_MAX];
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", fd_path(p, fd), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=755,size=4k") < 0)
                        return util_syserr(err, errno, "mask directory %s", path);
        } else {
                if (*nullfd < 0) {
                        *nullfd = open_dev_null(err);
                        if (*nullfd < 0)
                                return *nullfd;
                }
                mount_flags f = { 0 };
                int r = bind_fd_onto_fd(*nullfd, fd, &f, err, path);
                if (r < 0)
                        return husk_error_prefix(err, "mask %s", path);
        }
        /* re-check after mounting: the path must now show the mask (CVE-2025-31133) */
        _cleanup_close_ int again = safe_open_in_root(c->rootfs_fd, path, 0, false);
        if (again < 0)
                return util_syserr(err, -again, "reopen masked path %s", path);
        struct statfs sf;
        bool ok = S_ISDIR(st.st_mode) ? fstatfs(again, &sf) == 0 && sf.f_type == TMPFS_MAGIC
                                      : is_dev_null(again);
        if (!ok)
                return husk_error_set(err, EIO, "masked path %s changed while it was masked", path);
        return 0;
}

static int readonly_one(rootfs_ctx *c, const char *path, husk_error_t *err)
{
        _cleanup_close_ int fd = safe_open_in_root(c->rootfs_fd, path, 0, false);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return util_syserr(err, -fd, "open readonly path %s", path);
        mount_flags f = { .flags = MS_RDONLY, .rec_flags = MS_RDONLY, .bind = true, .rec = true };
        int r = bind_fd_onto_fd(fd, fd, &f, err, path);
        if (r < 0)
                return husk_error_prefix(err, "readonly path %s", path);
        _cleanup_close_ int again = safe_open_in_root(c->rootfs_fd, path, 0, false);
        if (again < 0)
                return util_syserr(err, -again, "reopen readonly path %s", path);
        if (r > 0) { /* old kernels: bound with mount(2), remount it read-only now */
                r = mount_fd_set_flags(again, MS_RDONLY, 0, false, err, path);
                if (r < 0)
                        return r;
        }
        struct statvfs sv;
        if (fstatvfs(again, &sv) < 0 || !(sv.f_flag & ST_RDONLY))
                return husk_error_set(err, EIO, "readonly path %s is not read-only after the remount",
                                      path);
        return 0;
}

int rootfs_mask(rootfs_ctx *c, husk_error_t *err)
{
        const config_linux *l = &c->cfg->linux_;
        _cleanup_close_ int nullfd = -1;
        if (c->no_mountns && (l->n_masked_paths || l->n_readonly_paths))
                return husk_error_set(err, EINVAL,
                                      "maskedPaths and readonlyPaths need a mount namespace");
        for (size_t i = 0; i < l->n_masked_paths; i++) {
                int r = mask_one(c, l->masked_paths[i], &nullfd, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < l->n_readonly_paths; i++) {
                int r = readonly_one(c, l->readonly_paths[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
