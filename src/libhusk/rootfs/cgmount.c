/* SPDX-License-Identifier: Apache-2.0 */
/* The "cgroup" mount type (podman sends one at /sys/fs/cgroup). Container side, in the container's
 * mount namespace, before the pivot; the process is already in its final cgroup. */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

static bool is_cgroup2(const char *path)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* Either mount the hierarchy afresh (with a cgroup namespace: the kernel shows the namespace root)
 * or bind the host's directory of our cgroup (without one). */
static int mount_hierarchy(rootfs_ctx *c, bool cgroupns, const char *fstype, const char *data,
                           const char *hostdir, const char *path, int dstfd, unsigned long flags,
                           husk_error_t *err)
{
        char p[FD_PATH_MAX];
        unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC | (flags & MS_RDONLY);
        if (cgroupns) {
                if (mount("cgroup", fd_path(p, dstfd), fstype, fl, data) < 0)
                        return util_syserr(err, errno, "mount %s (%s)", fstype, data ? data : "");
                return 0;
        }
        _cleanup_free_ char *src = xasprintf("%s/%s", hostdir, path);
        _cleanup_close_ int srcfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (srcfd < 0)
                return util_syserr(err, errno, "open %s", src);
        mount_flags f = { .flags = fl, .bind = true, .rec = true };
        int r = bind_fd_onto_fd(srcfd, dstfd, &f, err, src);
        return r < 0 ? r : 0;
}

static int mount_v2(rootfs_ctx *c, bool cgroupns, int dstfd, unsigned long flags,
                    husk_error_t *err)
{
        _cleanup_free_ char *self = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &self, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read /proc/self/cgroup");
        const char *path = strstr(self, "0::");
        if (!path)
                return husk_error_set(err, EINVAL, "no cgroup2 entry in /proc/self/cgroup");
        _cleanup_free_ char *p = xstrndup(path + 3, strcspn(path + 3, "\n"));
        return mount_hierarchy(c, cgroupns, "cgroup2", NULL, CGROUP_ROOT, p, dstfd, flags, err);
}

/* One line of /proc/self/cgroup ("4:cpu,cpuacct:/husk/c1") on a v1 or hybrid host. */
static int mount_v1_line(rootfs_ctx *c, bool cgroupns, int tmpfd, char *line, unsigned long flags,
                         husk_error_t *err)
{
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
                return 0;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *path = c2 + 1;
        const char *dir = ctrls[0] == '\0' ? "unified"
                          : strncmp(ctrls, "name=", 5) == 0 ? ctrls + 5 : ctrls;
        if (strchr(dir, '/') || strcmp(dir, ".") == 0 || strcmp(dir, "..") == 0)
                return 0;
        _cleanup_free_ char *hostdir = xasprintf(CGROUP_ROOT "/%s", dir);
        struct stat st;
        if (stat(hostdir, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0; /* a hierarchy the host does not mount here (nothing to show) */
        bool v2 = ctrls[0] == '\0';
        if (v2 && !is_cgroup2(hostdir))
                return 0;
        if (mkdirat(tmpfd, dir, 0755) < 0 && errno != EEXIST)
                return util_syserr(err, errno, "mkdir %s in the cgroup tmpfs", dir);
        _cleanup_close_ int sub = openat(tmpfd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return util_syserr(err, errno, "open %s in the cgroup tmpfs", dir);
        _cleanup_free_ char *data = strncmp(ctrls, "name=", 5) == 0 ? xasprintf("none,%s", ctrls)
                                                                     : xstrdup(ctrls);
        int r = mount_hierarchy(c, cgroupns, v2 ? "cgroup2" : "cgroup", v2 ? NULL : data, hostdir,
                                path, sub, flags, err);
        if (r < 0)
                return r;
        /* the host's aliases: cpu -> cpu,cpuacct, net_cls -> net_cls,net_prio */
        if (strchr(dir, ',')) {
                _cleanup_free_ char *parts = xstrdup(dir);
                for (char *save = NULL, *t = strtok_r(parts, ",", &save); t;
                     t = strtok_r(NULL, ",", &save))
                        if (symlinkat(dir, tmpfd, t) < 0 && errno != EEXIST)
                                return util_syserr(err, errno, "symlink %s -> %s", t, dir);
        }
        return 0;
}

int rootfs_mount_cgroup(rootfs_ctx *c, const char *dest, const mount_flags *f, int dstfd,
                        husk_error_t *err)
{
        bool cgroupns = config_find_namespace(c->cfg, NS_CGROUP) != NULL;
        if (is_cgroup2(CGROUP_ROOT))
                return mount_v2(c, cgroupns, dstfd, f->flags, err);
        /* v1 or hybrid: a tmpfs holding one directory per hierarchy */
        char p[FD_PATH_MAX];
        if (mount("tmpfs", fd_path(p, dstfd), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                return util_syserr(err, errno, "mount tmpfs on %s", dest);
        _cleanup_close_ int tmpfd = safe_open_in_root(c->rootfs_fd, dest, O_DIRECTORY, false);
        if (tmpfd < 0)
                return util_syserr(err, -tmpfd, "reopen %s", dest);
        struct statfs sf;
        if (fstatfs(tmpfd, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
                return husk_error_set(err, EIO, "%s is not the tmpfs just mounted", dest);
        _cleanup_free_ char *self = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &self, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read /proc/self/cgroup");
        for (char *save = NULL, *line = strtok_r(self, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                r = mount_v1_line(c, cgroupns, tmpfd, line, f->flags, err);
                if (r < 0)
                        return husk_error_prefix(err, "cgroup mount on %s", dest);
        }
        if (f->flags & MS_RDONLY)
                return mount_fd_set_flags(tmpfd, MS_RDONLY, 0, false, err, dest);
        return 0;
}
