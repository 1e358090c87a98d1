/* SPDX-License-Identifier: Apache-2.0 */
/* /dev: default device nodes, linux.devices and the standard symlinks. Container side, in the
 * container's mount namespace, before the pivot. Everything is created through a dirfd of the
 * directory resolved inside the root: an image symlink (/dev -> /host/dir) can never make us
 * write on the host. */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>

typedef struct dev_spec {
        const char *name;
        unsigned maj, min;
} dev_spec;

static const dev_spec default_devices[] = {
        { "null", 1, 3 },    { "zero", 1, 5 }, { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
        const char *name, *target;
} default_links[] = {
        { "fd", "/proc/self/fd" },          { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },    { "stderr", "/proc/self/fd/2" },
        { "ptmx", "pts/ptmx" },
};

static mode_t type_bits(char t)
{
        switch (t) {
        case 'b':
                return S_IFBLK;
        case 'p':
                return S_IFIFO;
        default: /* 'c', 'u' */
                return S_IFCHR;
        }
}

/* In a user namespace mknod is refused: bind the host node onto an empty file instead. The host
 * node is taken from the host's /dev at the same path, and must be the same device. */
static int bind_host_node(int dirfd, const char *name, const char *host_path, mode_t type,
                          dev_t rdev, husk_error_t *err)
{
        _cleanup_close_ int src = open(host_path, O_PATH | O_CLOEXEC);
        if (src < 0)
                return util_syserr(err, errno, "open host device %s", host_path);
        struct stat st;
        if (fstat(src, &st) < 0)
                return util_syserr(err, errno, "stat %s", host_path);
        if ((st.st_mode & S_IFMT) != type || st.st_rdev != rdev)
                return husk_error_set(err, EINVAL, "host %s is not device %u:%u", host_path,
                                      major(rdev), minor(rdev));
        int w = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (w < 0)
                return util_syserr(err, errno, "create mount point for %s", host_path);
        close(w);
        _cleanup_close_ int dst = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return util_syserr(err, errno, "open mount point for %s", host_path);
        mount_flags f = { 0 };
        int r = bind_fd_onto_fd(src, dst, &f, err, host_path);
        return r < 0 ? r : 0;
}

/* Create one node NAME in dirfd (replacing a non-directory entry that is in the way). */
static int make_node(rootfs_ctx *c, int dirfd, const char *name, const char *full, char t,
                     unsigned maj, unsigned min, mode_t perm, uid_t uid, gid_t gid,
                     husk_error_t *err)
{
        mode_t type = type_bits(t);
        dev_t rdev = t == 'p' ? 0 : makedev(maj, min);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode))
                        return husk_error_set(err, EEXIST, "device %s: a directory is in the way",
                                              full);
                if (unlinkat(dirfd, name, 0) < 0)
                        return util_syserr(err, errno, "remove %s", full);
        }
        if (c->in_userns && t != 'p') {
                int r = bind_host_node(dirfd, name, full, type, rdev, err);
                if (r < 0)
                        return r;
                return 0; /* the host node keeps its owner and mode (they cannot change here) */
        }
        if (mknodat(dirfd, name, type | (perm & 07777), rdev) < 0)
                return util_syserr(err, errno, "mknod %s", full);
        /* mknod honours the umask: set the exact mode and the owner on the node we made, held by
         * an O_PATH fd (never through a name that could have been swapped for a symlink) */
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open %s", full);
        if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != type || st.st_rdev != rdev)
                return husk_error_set(err, EIO, "%s changed after mknod", full);
        char p[FD_PATH_MAX];
        if (chmod(fd_path(p, fd), perm & 07777) < 0)
                return util_syserr(err, errno, "chmod %s", full);
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return util_syserr(err, errno, "chown %s", full);
        return 0;
}

static int make_config_device(rootfs_ctx *c, const config_device *d, husk_error_t *err)
{
        if (!d->path || d->path[0] != '/')
                return husk_error_set(err, EINVAL, "device path must be absolute");
        if (d->major < 0 || d->minor < 0 || d->major > 0xfffff || d->minor > 0xfffff)
                return husk_error_set(err, EINVAL, "device %s: bad major/minor", d->path);
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *base = NULL;
        int r = safe_open_parent_in_root(c->rootfs_fd, d->path, true, &dirfd, &base);
        if (r < 0)
                return util_syserr(err, -r, "open the parent of %s in the rootfs", d->path);
        mode_t perm = d->has_file_mode ? (mode_t)d->file_mode : 0666;
        return make_node(c, dirfd, base, d->path, d->type, (unsigned)d->major, (unsigned)d->minor,
                         perm, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, err);
}

static bool configured(const husk_config *cfg, const char *name)
{
        for (size_t i = 0; i < cfg->linux_.n_devices; i++) {
                const char *p = cfg->linux_.devices[i].path;
                if (p && strncmp(p, "/dev/", 5) == 0 && strcmp(p + 5, name) == 0)
                        return true;
        }
        return false;
}

static int dev_defaults(rootfs_ctx *c, husk_error_t *err)
{
        _cleanup_close_ int devfd = safe_open_in_root(c->rootfs_fd, "/dev", O_DIRECTORY, false);
        if (devfd < 0)
                return util_syserr(err, -devfd, "open /dev in the rootfs");
        /* the config mounted a tmpfs there: make sure we are writing into it, not an image dir */
        struct statfs sf;
        if (fstatfs(devfd, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
                return husk_error_set(err, EINVAL, "/dev in the rootfs is not the tmpfs mounted there");
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                const dev_spec *d = &default_devices[i];
                if (configured(c->cfg, d->name))
                        continue; /* linux.devices defines it (created next) */
                _cleanup_free_ char *full = xasprintf("/dev/%s", d->name);
                int r = make_node(c, devfd, d->name, full, 'c', d->maj, d->min, 0666, 0, 0, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ARRAY_SIZE(default_links); i++) {
                if (symlinkat(default_links[i].target, devfd, default_links[i].name) < 0 &&
                    errno != EEXIST)
                        return util_syserr(err, errno, "symlink /dev/%s", default_links[i].name);
        }
        return 0;
}

int rootfs_setup_dev(rootfs_ctx *c, bool dev_is_tmpfs, husk_error_t *err)
{
        if (dev_is_tmpfs) {
                int r = dev_defaults(c, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->cfg->linux_.n_devices; i++) {
                int r = make_config_device(c, &c->cfg->linux_.devices[i], err);
                if (r < 0)
                        return husk_error_prefix(err, "linux.devices[%zu]", i);
        }
        return 0;
}
