/* SPDX-License-Identifier: Apache-2.0 */
/* Start sequence steps 6-7: propagation, the rootfs self-bind and the config mounts. Container side,
 * in the container's new mount namespace (and user namespace when configured), before the pivot.
 * Every destination is resolved inside the root by fd and every mount lands on that fd. */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/magic.h>

/* MS_* (mount(2)) to MOUNT_ATTR_* (mount_setattr(2)). Superblock flags (sync, dirsync, mand,
 * lazytime, silent) have no per-mount attribute: a bind mount cannot change them. */
static void to_attr(unsigned long set, unsigned long clr, struct mount_attr *a)
{
        static const struct {
                unsigned long ms;
                uint64_t attr;
        } map[] = {
                { MS_RDONLY, MOUNT_ATTR_RDONLY },     { MS_NOSUID, MOUNT_ATTR_NOSUID },
                { MS_NODEV, MOUNT_ATTR_NODEV },       { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
                { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
        };
        for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
                if (set & map[i].ms)
                        a->attr_set |= map[i].attr;
                else if (clr & map[i].ms)
                        a->attr_clr |= map[i].attr;
        }
        /* atime is one field: choosing a mode replaces the current one */
        if (set & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
                a->attr_clr |= MOUNT_ATTR__ATIME;
                if (set & MS_NOATIME)
                        a->attr_set |= MOUNT_ATTR_NOATIME;
                else if (set & MS_STRICTATIME)
                        a->attr_set |= MOUNT_ATTR_STRICTATIME;
                else
                        a->attr_set |= MOUNT_ATTR_RELATIME;
        }
}

/* statvfs ST_* of a mount, as MS_* (the flags a remount must keep when the kernel locked them). */
static unsigned long mounted_flags(int fd)
{
        struct statvfs sv;
        if (fstatvfs(fd, &sv) < 0)
                return 0;
        unsigned long r = 0;
        if (sv.f_flag & ST_RDONLY)
                r |= MS_RDONLY;
        if (sv.f_flag & ST_NOSUID)
                r |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                r |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                r |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                r |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                r |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                r |= MS_RELATIME;
        return r;
}

/* Classic remount through /proc/self/fd: keeps what the kernel locked (flags already set). */
static int remount_classic(int fd, unsigned long set, unsigned long clr, husk_error_t *err,
                           const char *what)
{
        char p[FD_PATH_MAX];
        unsigned long cur = mounted_flags(fd);
        unsigned long fl = ((cur & ~clr) | set) & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                                   MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                                   MS_STRICTATIME);
        if (mount(NULL, fd_path(p, fd), NULL, MS_BIND | MS_REMOUNT | fl, NULL) < 0) {
                /* in a user namespace the kernel refuses to clear locked flags: keep them */
                if (errno != EPERM ||
                    mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | fl | cur, NULL) < 0)
                        return util_syserr(err, errno, "remount %s", what);
        }
        return 0;
}

int mount_fd_set_flags(int fd, unsigned long set, unsigned long clr, bool recursive,
                       husk_error_t *err, const char *what)
{
        struct mount_attr a = { 0 };
        to_attr(set, clr, &a);
        if (!a.attr_set && !a.attr_clr)
                return 0;
        unsigned fl = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        if (mount_setattr(fd, "", fl, &a, sizeof(a)) == 0)
                return 0;
        if (errno == EPERM && a.attr_clr) {
                /* a user namespace locked some flags (ro, nosuid, ...): keep them, set the rest */
                a.attr_clr &= MOUNT_ATTR__ATIME;
                if (mount_setattr(fd, "", fl, &a, sizeof(a)) == 0)
                        return 0;
        }
        if (errno == ENOSYS && !recursive)
                return remount_classic(fd, set, clr, err, what);
        return util_syserr(err, errno, "set mount flags of %s", what);
}

int mount_fd_propagation(int fd, unsigned long propagation, husk_error_t *err, const char *what)
{
        if (!propagation)
                return 0;
        char p[FD_PATH_MAX];
        if (mount(NULL, fd_path(p, fd), NULL, propagation, NULL) < 0)
                return util_syserr(err, errno, "set propagation of %s", what);
        return 0;
}

int bind_fd_onto_fd(int srcfd, int dstfd, const mount_flags *f, husk_error_t *err,
                    const char *what)
{
        unsigned ot = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (f->rec ? AT_RECURSIVE : 0);
        _cleanup_close_ int tree = open_tree(srcfd, "", ot);
        if (tree < 0 && errno != ENOSYS)
                return util_syserr(err, errno, "clone mount tree for %s", what);
        if (tree < 0) {
                /* kernels before 5.2: mount(2) between /proc/self/fd paths, then remount */
                char s[FD_PATH_MAX], d[FD_PATH_MAX];
                if (mount(fd_path(s, srcfd), fd_path(d, dstfd), NULL,
                          MS_BIND | (f->rec ? MS_REC : 0), NULL) < 0)
                        return util_syserr(err, errno, "bind mount %s", what);
                return 1; /* the caller reopens the destination and applies flags */
        }
        return attach_tree(tree, dstfd, f, err, what);
}

int attach_tree(int tree, int dstfd, const mount_flags *f, husk_error_t *err, const char *what)
{
        /* flags on the detached tree: the mount is never visible with weaker flags */
        int r = mount_fd_set_flags(tree, f->flags, f->clear, false, err, what);
        if (r < 0)
                return r;
        r = mount_fd_set_flags(tree, f->rec_flags, f->rec_clear, true, err, what);
        if (r < 0)
                return r;
        if (move_mount(tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return util_syserr(err, errno, "attach bind mount %s", what);
        return mount_fd_propagation(tree, f->propagation, err, what);
}

static bool is_type(const config_mount *m, const char *t)
{
        return m->type && strcmp(m->type, t) == 0;
}

/* /proc and /sys must be real directories: a symlink there could redirect procfs writes (labels,
 * sysctls) to a place the image chose (CVE-2019-16884 and kin). */
static int check_real_dir(int rootfd, const char *dest, husk_error_t *err)
{
        _cleanup_close_ int fd = safe_open_in_root(rootfd, dest, 0, true);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return util_syserr(err, -fd, "open %s in the rootfs", dest);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return util_syserr(err, errno, "stat %s", dest);
        if (S_ISLNK(st.st_mode))
                return husk_error_set(err, ELOOP,
                                      "%s is a symlink in the rootfs: it must be a real directory",
                                      dest);
        if (!S_ISDIR(st.st_mode))
                return husk_error_set(err, ENOTDIR, "%s in the rootfs is not a directory", dest);
        return 0;
}

/* copy-symlink (crun's option; runc ignores it): a bind source that is a symlink becomes the same
 * symlink at the destination, made through the parent's fd inside the root. Returns 1 when the
 * source is not a symlink (bind as usual). */
static int copy_symlink(rootfs_ctx *c, const char *src, const char *dest, husk_error_t *err)
{
        struct stat st;
        if (lstat(src, &st) < 0 || !S_ISLNK(st.st_mode))
                return 1;
        char target[4096];
        ssize_t n = readlink(src, target, sizeof(target) - 1);
        if (n < 0)
                return util_syserr(err, errno, "readlink bind source %s", src);
        target[n] = '\0';
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *base = NULL;
        int r = safe_open_parent_in_root(c->rootfs_fd, dest, true, &dirfd, &base);
        if (r < 0)
                return util_syserr(err, -r, "open the parent of %s in the rootfs", dest);
        if (symlinkat(target, dirfd, base) < 0)
                return util_syserr(err, errno, "copy the symlink %s to %s", src, dest);
        return 0;
}

/* idx: the config mount's index (its tree from rootfs_open_sources), or -1. */
static int mount_bind(rootfs_ctx *c, const config_mount *m, ssize_t idx, const char *dest,
                      mount_flags *f, husk_error_t *err)
{
        if (!m->source)
                return husk_error_set(err, EINVAL, "bind mount on %s has no source", dest);
        _cleanup_free_ char *src = m->source[0] == '/' || !c->bundle
                                           ? xstrdup(m->source)
                                           : xasprintf("%s/%s", c->bundle, m->source);
        if (f->copy_symlink) {
                int cr = copy_symlink(c, src, dest, err);
                if (cr <= 0)
                        return cr;
        }
        _cleanup_close_ int tree = -1;
        if (idx >= 0 && (size_t)idx < c->n_src_trees)
                tree = TAKE_FD(c->src_trees[idx]);
        /* the source is a host path from the config (trusted): host symlinks are followed. The
         * tree opened by the host side is used when there is one (see rootfs_open_sources). */
        _cleanup_close_ int srcfd = tree >= 0 ? fcntl(tree, F_DUPFD_CLOEXEC, 3)
                                              : open(src, O_PATH | O_CLOEXEC);
        if (srcfd < 0)
                return util_syserr(err, errno, "open bind source %s", src);
        struct stat st;
        if (fstat(srcfd, &st) < 0)
                return util_syserr(err, errno, "stat bind source %s", src);
        _cleanup_close_ int dstfd = S_ISDIR(st.st_mode)
                                            ? safe_mkdir_p_in_root(c->rootfs_fd, dest, 0755)
                                            : safe_create_file_in_root(c->rootfs_fd, dest, 0644);
        if (dstfd < 0)
                return util_syserr(err, -dstfd, "create mount point %s in the rootfs", dest);
        _cleanup_free_ char *what = xasprintf("%s on %s", src, dest);
        int r = tree >= 0 ? attach_tree(tree, dstfd, f, err, what)
                          : bind_fd_onto_fd(srcfd, dstfd, f, err, what);
        if (r <= 0)
                return r;
        /* fallback path: reopen the new mount (resolved in root again) to set its flags */
        _cleanup_close_ int nfd = safe_open_in_root(c->rootfs_fd, dest, 0, false);
        if (nfd < 0)
                return util_syserr(err, -nfd, "reopen %s", dest);
        r = mount_fd_set_flags(nfd, f->flags, f->clear, false, err, what);
        if (r < 0)
                return r;
        return mount_fd_propagation(nfd, f->propagation, err, what);
}

/* sysfs in a user namespace without its own network namespace cannot be mounted: bind the host's. */
static int sysfs_fallback(rootfs_ctx *c, const char *dest, mount_flags *f, husk_error_t *err)
{
        config_mount m = { .source = (char *)"/sys" };
        f->bind = f->rec = true;
        return mount_bind(c, &m, -1, dest, f, err);
}

static int mount_one(rootfs_ctx *c, const config_mount *m, size_t idx, husk_error_t *err)
{
        if (!m->destination || m->destination[0] != '/')
                return husk_error_set(err, EINVAL, "mount destination \"%s\" is not absolute",
                                      m->destination ? m->destination : "");
        if ((m->n_uid_mappings || m->n_gid_mappings) &&
            (idx >= c->n_src_trees || c->src_trees[idx] < 0))
                return husk_error_set(err, EINVAL,
                                      "idmapped mount without a tree from the host side");
        _cleanup_free_ char *dest = rootfs_clean_path(m->destination);
        mount_flags f = { 0 };
        int r = rootfs_parse_mount_options(m->options, m->n_options, &f, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *data = f.data; /* owned here */
        if (strcmp(dest, "/proc") == 0 || strcmp(dest, "/sys") == 0 || is_type(m, "proc") ||
            is_type(m, "sysfs")) {
                r = check_real_dir(c->rootfs_fd, dest, err);
                if (r < 0)
                        return r;
        }
        if (f.bind || is_type(m, "bind"))
                return mount_bind(c, m, (ssize_t)idx, dest, &f, err);
        if (!m->type)
                return husk_error_set(err, EINVAL, "mount on %s has no type", dest);
        _cleanup_close_ int dstfd = safe_mkdir_p_in_root(c->rootfs_fd, dest, 0755);
        if (dstfd < 0)
                return util_syserr(err, -dstfd, "create mount point %s in the rootfs", dest);
        if (is_type(m, "cgroup") || is_type(m, "cgroup2"))
                return rootfs_mount_cgroup(c, dest, &f, dstfd, err);
        if (f.tmpcopyup && !is_type(m, "tmpfs"))
                return husk_error_set(err, EINVAL, "tmpcopyup on %s needs a tmpfs mount", dest);
        char p[FD_PATH_MAX];
        unsigned long fl = f.flags & ~MS_REMOUNT;
        const char *source = m->source ? m->source : m->type;
        if (is_type(m, "tmpfs") && (fl & MS_RDONLY)) {
                /* mounted writable (filled by tmpcopyup, mount points and /dev made in it),
                 * made read-only by rootfs_finalize */
                fl &= ~MS_RDONLY;
                c->ro_later = xrealloc(c->ro_later, (c->n_ro_later + 2) * sizeof(char *));
                c->ro_later[c->n_ro_later++] = xstrdup(dest);
                c->ro_later[c->n_ro_later] = NULL;
        }
        if (mount(source, fd_path(p, dstfd), m->type, fl, data) < 0) {
                if (is_type(m, "sysfs") && (errno == EPERM || errno == EACCES) && c->in_userns)
                        return sysfs_fallback(c, dest, &f, err);
                return util_syserr(err, errno, "mount %s (%s) on %s", source, m->type, dest);
        }
        if (f.tmpcopyup) {
                _cleanup_close_ int nfd = safe_open_in_root(c->rootfs_fd, dest, O_DIRECTORY, false);
                struct statfs sf;
                if (nfd < 0 || fstatfs(nfd, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
                        return husk_error_set(err, EIO, "%s is not the tmpfs just mounted", dest);
                bool keep_mode = data && (strncmp(data, "mode=", 5) == 0 || strstr(data, ",mode="));
                r = rootfs_copyup(dstfd, nfd, keep_mode, err, dest);
                if (r < 0)
                        return r;
        }
        if (is_type(m, "proc") || is_type(m, "sysfs")) {
                /* what later steps write through (sysctls, labels) must be the real thing
                 * (CVE-2019-16884): the path must now show a fresh procfs / sysfs */
                _cleanup_close_ int nfd = safe_open_in_root(c->rootfs_fd, dest, O_DIRECTORY, false);
                struct statfs sf;
                long magic = is_type(m, "proc") ? PROC_SUPER_MAGIC : SYSFS_MAGIC;
                if (nfd < 0 || fstatfs(nfd, &sf) < 0 || sf.f_type != magic)
                        return husk_error_set(err, EIO, "%s is not a %s mount after mounting it",
                                              dest, m->type);
        }
        if (f.propagation) {
                _cleanup_close_ int nfd = safe_open_in_root(c->rootfs_fd, dest, O_DIRECTORY, false);
                if (nfd < 0)
                        return util_syserr(err, -nfd, "reopen %s", dest);
                return mount_fd_propagation(nfd, f.propagation, err, dest);
        }
        return 0;
}

static bool dev_is_tmpfs(const husk_config *cfg)
{
        bool r = false;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                if (!cfg->mounts[i].destination)
                        continue;
                _cleanup_free_ char *d = rootfs_clean_path(cfg->mounts[i].destination);
                if (strcmp(d, "/dev") == 0)
                        r = is_type(&cfg->mounts[i], "tmpfs"); /* the last one on /dev wins */
        }
        return r;
}

/* A process.cwd that does not exist is created (0755, so any user can reach it), as runc and crun
 * do: after the mounts, so a cwd inside a volume or tmpfs is made there, and before root.readonly.
 * Resolved inside the root: an image symlink on the way cannot send the mkdir to the host. */
static int make_cwd(rootfs_ctx *c, husk_error_t *err)
{
        const char *cwd = c->cfg->process ? c->cfg->process->cwd : NULL;
        if (!cwd || !cwd[0])
                return 0;
        _cleanup_close_ int fd = safe_open_in_root(c->rootfs_fd, cwd, 0, false);
        if (fd != -ENOENT)
                return 0; /* it exists (or cannot be opened): the chdir reports a problem */
        mode_t old = umask(022);
        int nfd = safe_mkdir_p_in_root(c->rootfs_fd, cwd, 0755);
        umask(old);
        if (nfd < 0)
                return util_syserr(err, -nfd, "create the working directory %s (process.cwd)",
                                   cwd);
        close(nfd);
        return 0;
}

int rootfs_make_parent_private(const char *path, husk_error_t *err)
{
        _cleanup_free_ char *mi = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &mi, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read /proc/self/mountinfo");
        char best[4096] = "/";
        for (char *save = NULL, *line = strtok_r(mi, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char mp[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                rootfs_unescape_mountinfo(mp);
                if (rootfs_path_has_prefix(path, mp) && strlen(mp) > strlen(best))
                        snprintf(best, sizeof(best), "%s", mp);
        }
        if (mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
                return util_syserr(err, errno, "make %s (the mount holding the rootfs) private",
                                   best);
        return 0;
}

int rootfs_mounts(rootfs_ctx *c, husk_error_t *err)
{
        const husk_config *cfg = c->cfg;
        c->rootfs_fd = -1;
        if (!c->rootfs || c->rootfs[0] != '/')
                return husk_error_set(err, EINVAL, "rootfs path must be absolute");
        if (c->no_mountns) {
                /* the host's mount namespace: no propagation change, no mount at all */
                rootfs_close_sources(c);
                c->rootfs_fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (c->rootfs_fd < 0)
                        return util_syserr(err, errno, "open rootfs %s", c->rootfs);
                return make_cwd(c, err);
        }
        /* Step 6: "/" gets rootfsPropagation before any mount, as runc does: rslave by default
         * (host mounts still reach us, nothing goes back). A shared kind keeps the host's peer
         * groups, so a volume bound from a shared host mount is bidirectional (Kubernetes
         * mountPropagation: Bidirectional); rootfs_finalize applies it again to the new root. */
        unsigned long prop = rootfs_propagation_flags(cfg->linux_.rootfs_propagation);
        /* An unbindable "/" could not be the source of the rootfs self-bind (EINVAL): that kind
         * is set on the new root only, by rootfs_finalize, over the default rslave. */
        unsigned long first = prop && !(prop & MS_UNBINDABLE) ? prop : MS_SLAVE | MS_REC;
        if (mount(NULL, "/", NULL, first, NULL) < 0)
                return util_syserr(err, errno, "set the propagation of / (rootfsPropagation)");
        /* With a shared "/", the self-bind below would propagate to the host and pivot_root
         * refuses a shared parent: the mount holding the rootfs becomes private (in this mount
         * namespace only), so the container's own mounts stay in it. */
        if (prop & MS_SHARED) {
                int r = rootfs_make_parent_private(c->rootfs, err);
                if (r < 0)
                        return r;
        }
        /* pivot_root needs the new root to be a mount point: bind it on itself */
        if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return util_syserr(err, errno, "bind mount the rootfs %s on itself", c->rootfs);
        int fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open rootfs %s", c->rootfs);
        c->rootfs_fd = fd;
        for (size_t i = 0; i < cfg->n_mounts; i++) {
                int r = mount_one(c, &cfg->mounts[i], i, err);
                if (r < 0)
                        return husk_error_prefix(err, "mounts[%zu] (%s)", i,
                                                 cfg->mounts[i].destination
                                                         ? cfg->mounts[i].destination
                                                         : "?");
        }
        rootfs_close_sources(c); /* every tree is attached (or unused) */
        int r = rootfs_setup_dev(c, dev_is_tmpfs(cfg), err);
        if (r < 0)
                return r;
        return make_cwd(c, err);
}
