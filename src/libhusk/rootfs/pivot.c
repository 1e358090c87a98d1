/* SPDX-License-Identifier: Apache-2.0 */
/* Start sequence steps 10-11: pivot_root (or MS_MOVE + chroot), /dev/console, read-only root and
 * root propagation. Container side, in the container's mount namespace. */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/magic.h>

/* Unescape mountinfo's octal escapes (\040 for space, ...) in place. */
void rootfs_unescape_mountinfo(char *s)
{
        char *o = s;
        for (char *i = s; *i; i++) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' &&
                    i[3] >= '0' && i[3] <= '7') {
                        *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 3;
                } else
                        *o++ = *i;
        }
        *o = '\0';
}

bool rootfs_path_has_prefix(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);
        if (strcmp(prefix, "/") == 0)
                return true;
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* --no-pivot: every host mount that is neither the rootfs (or below it) nor one of its ancestors
 * is detached from this mount namespace, so host /proc, /sys, ... are gone for good, not merely
 * shadowed. Where the kernel refuses (mounts locked in a user namespace: EINVAL), an empty
 * read-only tmpfs covers procfs and sysfs. */
static int hide_host_mounts(rootfs_ctx *c, husk_error_t *err)
{
        _cleanup_free_ char *mi = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &mi, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read /proc/self/mountinfo");
        size_t n = 0, cap = 0;
        _cleanup_strv_ char **mps = NULL;
        _cleanup_strv_ char **types = NULL;
        for (char *save = NULL, *line = strtok_r(mi, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char mp[4096], fstype[256];
                /* id parent maj:min root mountpoint options [optional...] - fstype source super */
                const char *dash = strstr(line, " - ");
                if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
                    sscanf(dash + 3, "%255s", fstype) != 1)
                        continue;
                rootfs_unescape_mountinfo(mp);
                if (rootfs_path_has_prefix(mp, c->rootfs) || rootfs_path_has_prefix(c->rootfs, mp))
                        continue;
                if (n + 2 > cap) {
                        cap = cap ? cap * 2 : 64;
                        mps = xrealloc(mps, cap * sizeof(char *));
                        types = xrealloc(types, cap * sizeof(char *));
                }
                mps[n] = xstrdup(mp);
                types[n++] = xstrdup(fstype);
                mps[n] = types[n] = NULL;
        }
        for (size_t i = n; i-- > 0;) { /* children before parents */
                /* never let the detach propagate to the host (rootfsPropagation shared keeps
                 * the host's peer groups) */
                (void)mount(NULL, mps[i], NULL, MS_SLAVE, NULL);
                if (umount2(mps[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0 || errno == ENOENT)
                        continue;
                /* EINVAL: a mount locked by the user namespace cannot be detached. A host procfs
                 * or sysfs left fully visible would let the container (after unshare -mr)
                 * mount a fresh one: the kernel allows that only when one is fully visible
                 * (mount_too_revealing). Covered, it is not; runc does the same. */
                if (strcmp(types[i], "proc") == 0 || strcmp(types[i], "sysfs") == 0) {
                        if (mount("tmpfs", mps[i], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                  "size=4k") < 0)
                                return util_syserr(err, errno, "cover host %s", mps[i]);
                }
        }
        return 0;
}

int rootfs_pivot(rootfs_ctx *c, husk_error_t *err)
{
        if (c->rootfs_fd < 0)
                return husk_error_set(err, EBADF, "rootfs_pivot before rootfs_mounts");
        if (c->no_mountns) {
                /* the host's mount namespace is shared: chroot is all there is (runc does the
                 * same); the host's mounts stay outside the root */
                if (fchdir(c->rootfs_fd) < 0)
                        return util_syserr(err, errno, "chdir to the rootfs");
                if (chroot(".") < 0)
                        return util_syserr(err, errno, "chroot into the rootfs");
        } else if (c->no_pivot) {
                int r = hide_host_mounts(c, err);
                if (r < 0)
                        return r;
                if (fchdir(c->rootfs_fd) < 0)
                        return util_syserr(err, errno, "chdir to the rootfs");
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return util_syserr(err, errno, "move the rootfs mount to /");
                if (chroot(".") < 0)
                        return util_syserr(err, errno, "chroot into the rootfs");
        } else {
                /* The old root, held by fd: after pivot_root(".", ".") it is stacked on the new
                 * root, and neither "." nor "/" name it (they name the new root: making that
                 * rslave would turn the container's shared binds into private ones). */
                _cleanup_close_ int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (old < 0)
                        return util_syserr(err, errno, "open the old root");
                if (fchdir(c->rootfs_fd) < 0)
                        return util_syserr(err, errno, "chdir to the rootfs");
                if (syscall(SYS_pivot_root, ".", ".") < 0)
                        return util_syserr(err, errno, "pivot_root");
                if (fchdir(old) < 0)
                        return util_syserr(err, errno, "chdir to the old root");
                /* never let the detach below propagate to the host */
                if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                        return util_syserr(err, errno, "make the old root rslave");
                if (umount2(".", MNT_DETACH) < 0)
                        return util_syserr(err, errno, "detach the old root");
        }
        if (chdir("/") < 0)
                return util_syserr(err, errno, "chdir /");
        return 0;
}

/* Step 11: the tmpfs mounts asked read-only (rootfs_ctx.ro_later), after /dev/console. */
static int remount_ro_later(rootfs_ctx *c, husk_error_t *err)
{
        if (!c->n_ro_later)
                return 0;
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return util_syserr(err, errno, "open /");
        for (size_t i = 0; i < c->n_ro_later; i++) {
                const char *dest = c->ro_later[i];
                _cleanup_close_ int fd = safe_open_in_root(root, dest, O_DIRECTORY, false);
                struct statfs sf;
                if (fd < 0)
                        return util_syserr(err, -fd, "reopen %s to make it read-only", dest);
                if (fstatfs(fd, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
                        return husk_error_set(err, EIO, "%s is no longer the tmpfs mounted there",
                                              dest);
                int r = mount_fd_set_flags(fd, MS_RDONLY, 0, false, err, dest);
                if (r < 0)
                        return r;
        }
        strv_free(c->ro_later);
        c->ro_later = NULL;
        c->n_ro_later = 0;
        return 0;
}

int rootfs_finalize(rootfs_ctx *c, husk_error_t *err)
{
        const husk_config *cfg = c->cfg;
        if (c->no_mountns) {
                if (cfg->root.readonly)
                        return husk_error_set(err, EINVAL, "root.readonly needs a mount namespace");
                return 0; /* propagation of the host's "/" is the host's business */
        }
        int rr = remount_ro_later(c, err);
        if (rr < 0)
                return rr;
        if (cfg->root.readonly) {
                _cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return util_syserr(err, errno, "open /");
                /* only the root mount; flags the kernel locked are kept (mount_setattr / statvfs) */
                int r = mount_fd_set_flags(fd, MS_RDONLY, 0, false, err, "/");
                if (r < 0)
                        return husk_error_prefix(err, "root.readonly");
        }
        unsigned long prop = rootfs_propagation_flags(cfg->linux_.rootfs_propagation);
        if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
                return util_syserr(err, errno, "set rootfsPropagation of /");
        return 0;
}

int rootfs_console(rootfs_ctx *c, int pty_slave_fd, husk_error_t *err)
{
        if (c->no_mountns)
                return 0; /* no bind mount on the host: the pty is the process's stdio only */
        _cleanup_close_ int devfd = -1;
        _cleanup_free_ char *base = NULL;
        int r = safe_open_parent_in_root(c->rootfs_fd, "/dev/console", true, &devfd, &base);
        if (r < 0)
                return util_syserr(err, -r, "open /dev in the rootfs");
        struct stat st;
        /* an image (or an earlier step) may have left /dev/console as a symlink: never mount
         * through it (CVE-2025-31133); replace it with an empty file */
        if (fstatat(devfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
            unlinkat(devfd, base, 0) < 0)
                return util_syserr(err, errno, "remove the /dev/console symlink");
        int w = openat(devfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (w < 0 && errno != EEXIST && errno != ENXIO && errno != EIO)
                return util_syserr(err, errno, "create /dev/console");
        if (w >= 0)
                close(w);
        _cleanup_close_ int dst = openat(devfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return util_syserr(err, errno, "open /dev/console");
        if (fstat(dst, &st) < 0)
                return util_syserr(err, errno, "stat /dev/console");
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return husk_error_set(err, EINVAL, "/dev/console is neither a file nor a device");
        mount_flags f = { 0 };
        r = bind_fd_onto_fd(pty_slave_fd, dst, &f, err, "the pty on /dev/console");
        return r < 0 ? r : 0;
}
