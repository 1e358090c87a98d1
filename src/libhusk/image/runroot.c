/* SPDX-License-Identifier: Apache-2.0 */
/* Image run: the container's root, host side. An overlay of the stored layers (lowest first) with
 * the container's own upper and work dirs; where overlay cannot be used, a private copy of the
 * layers with their whiteouts applied. */
#include "image/image.h"
#include "image/run.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#ifndef SYS_fsopen
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#define HUSK_FSOPEN_CLOEXEC 0x1
#define HUSK_FSCONFIG_SET_FLAG 0
#define HUSK_FSCONFIG_SET_STRING 1
#define HUSK_FSCONFIG_CMD_CREATE 6
#define HUSK_FSMOUNT_CLOEXEC 0x1
#define HUSK_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define HUSK_MOVE_MOUNT_T_EMPTY_PATH 0x40

static int fsconfig_str(int fd, const char *key, const char *value)
{
        return (int)syscall(SYS_fsconfig, fd, HUSK_FSCONFIG_SET_STRING, key, value, 0);
}

/* The new mount API: each lower layer is its own "lowerdir+" (kernel 6.8+), so the number of
 * layers is not bounded by the one-page option string of mount(2). -ENOSYS/-EINVAL when the
 * kernel lacks it (the caller falls back). */
static int overlay_fsconfig(char *const *layers, size_t n, int upper_fd, int work_fd,
                            int target_fd, husk_error_t *err)
{
        _cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", HUSK_FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        char up[64], wk[64];
        snprintf(up, sizeof(up), "/proc/self/fd/%d", upper_fd);
        snprintf(wk, sizeof(wk), "/proc/self/fd/%d", work_fd);
        /* "lowerdir+" lists the layers top first, like the lowerdir= string. */
        for (size_t i = n; i-- > 0;)
                if (fsconfig_str(fs, "lowerdir+", layers[i]) < 0)
                        return -errno; /* EINVAL on kernels without lowerdir+ */
        if (fsconfig_str(fs, "upperdir", up) < 0 || fsconfig_str(fs, "workdir", wk) < 0)
                return util_syserr(err, errno, "overlay: set upperdir/workdir");
        /* "volatile" (speed): no sync of the upper filesystem, which overlay otherwise does at
         * every sync and at unmount (an ext4 journal commit and a disk flush, ~5 ms of each
         * delete). The upper dir is thrown away with the container, so a crash losing its
         * unsynced writes loses nothing that outlives it. Kernels before 5.10 lack it: skipped. */
        (void)syscall(SYS_fsconfig, fs, HUSK_FSCONFIG_SET_FLAG, "volatile", NULL, 0);
        /* Rootless (Linux 5.11+): overlay metadata in user.overlay.* (image_opaque_xattr). */
        if (util_rootless() &&
            syscall(SYS_fsconfig, fs, HUSK_FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
                return util_syserr(err, errno, "overlay: userxattr (rootless overlay needs "
                                   "Linux 5.11)");
        if (syscall(SYS_fsconfig, fs, HUSK_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return util_syserr(err, errno, "overlay: create the filesystem (%zu layers)", n);
        _cleanup_close_ int mnt = (int)syscall(SYS_fsmount, fs, HUSK_FSMOUNT_CLOEXEC, 0);
        if (mnt < 0)
                return util_syserr(err, errno, "overlay: fsmount");
        if (syscall(SYS_move_mount, mnt, "", target_fd, "",
                    HUSK_MOVE_MOUNT_F_EMPTY_PATH | HUSK_MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return util_syserr(err, errno, "overlay: attach the mount");
        return 0;
}

/* mount(2): the layers all live in STORE/layers/HEX/diff, so the option string names them
 * relative to that folder ("HEX/diff", 69 bytes each) after a fchdir, which fits ~55 layers in
 * the page the kernel copies. */
static int overlay_legacy(char *const *layers, size_t n, int upper_fd, int work_fd,
                          int target_fd, husk_error_t *err)
{
        const char *last = strrchr(layers[0], '/');
        size_t plen = 0;
        /* layers[i] = PREFIX/HEX/diff: PREFIX is everything before the second-last '/'. */
        for (const char *p = layers[0]; p < last; p++)
                if (*p == '/')
                        plen = (size_t)(p - layers[0]);
        _cleanup_free_ char *prefix = xstrndup(layers[0], plen);
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
                if (strncmp(layers[i], prefix, plen) != 0 || layers[i][plen] != '/')
                        return husk_error_set(err, EINVAL, "overlay: layer %s is not under %s",
                                              layers[i], prefix);
                len += strlen(layers[i] + plen + 1) + 1;
        }
        _cleanup_free_ char *opts = xmalloc(len + 128);
        size_t o = (size_t)sprintf(opts, "lowerdir=");
        for (size_t i = n; i-- > 0;)
                o += (size_t)sprintf(opts + o, "%s%s", layers[i] + plen + 1, i ? ":" : "");
        sprintf(opts + o, ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d%s", upper_fd,
                work_fd, util_rootless() ? ",userxattr" : "");
        if (strlen(opts) >= (size_t)sysconf(_SC_PAGESIZE))
                return husk_error_set(err, E2BIG, "overlay: %zu layers do not fit in one mount "
                                      "option string", n);
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int pfd = open(prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char target[64];
        snprintf(target, sizeof(target), "/proc/self/fd/%d", target_fd);
        if (cwd < 0 || pfd < 0 || fchdir(pfd) < 0)
                return util_syserr(err, errno, "overlay: enter %s", prefix);
        /* ",volatile": see overlay_fsconfig; retried without it on kernels before 5.10. */
        size_t olen = strlen(opts);
        int r = -1;
        if (olen + 9 < (size_t)sysconf(_SC_PAGESIZE)) {
                strcpy(opts + olen, ",volatile");
                r = mount("overlay", target, "overlay", 0, opts);
                opts[olen] = '\0';
        }
        if (r < 0)
                r = mount("overlay", target, "overlay", 0, opts);
        int e = errno;
        if (fchdir(cwd) < 0)
                return util_syserr(err, errno, "overlay: return to the working directory");
        if (r < 0)
                return util_syserr(err, e, "overlay: mount %zu layers", n);
        return 0;
}

int run_mount_overlay(char *const *layer_dirs, int upper_fd, int work_fd, int target_fd,
                      husk_error_t *err)
{
        size_t n = strv_length(layer_dirs);
        if (n == 0)
                return husk_error_set(err, EINVAL, "overlay: the image has no layers");
        int r = overlay_fsconfig(layer_dirs, n, upper_fd, work_fd, target_fd, err);
        if (r == -ENOSYS || r == -EINVAL || r == -EPERM)
                return overlay_legacy(layer_dirs, n, upper_fd, work_fd, target_fd, err);
        if (r < 0 && !err->msg[0])
                return util_syserr(err, -r, "overlay: fsopen");
        return r;
}

/* ---- private copy ---- */

static int copy_xattrs(int src, int dst)
{
        char names[4096];
        ssize_t len = flistxattr(src, names, sizeof(names));
        if (len < 0)
                return errno == ENOTSUP ? 0 : -errno;
        for (char *nm = names; nm < names + len; nm += strlen(nm) + 1) {
                if (strncmp(nm, "trusted.overlay.", 16) == 0 ||
                    strncmp(nm, "user.overlay.", 13) == 0)
                        continue; /* overlay metadata is applied, not copied */
                char val[4096];
                ssize_t vl = fgetxattr(src, nm, val, sizeof(val));
                if (vl >= 0 && fsetxattr(dst, nm, val, (size_t)vl, 0) < 0 && errno != ENOTSUP)
                        return -errno;
        }
        return 0;
}

static bool is_opaque(int dirfd)
{
        char v[2];
        return fgetxattr(dirfd, image_opaque_xattr(), v, sizeof(v)) == 1 && v[0] == 'y';
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st)
{
        _cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int out = -1;
        if (in < 0)
                return -errno;
        (void)unlinkat(ddir, name, 0);
        out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        for (off_t left = st->st_size; left > 0;) {
                ssize_t k = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                left -= k;
        }
        /* Owner first: chown clears setuid bits, so the mode goes after it. */
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0 ||
            futimens(out, ts) < 0)
                return -errno;
        return copy_xattrs(in, out);
}

static int copy_dir(int sdir, int ddir);

static int copy_entry(int sdir, int ddir, const char *name)
{
        struct stat st, dst;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        bool exists = fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return rm_rf_at(ddir, name); /* whiteout: the name is gone from lower layers */
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0)
                        return -errno;
                if (exists && (!S_ISDIR(dst.st_mode) || is_opaque(s))) {
                        int r = rm_rf_at(ddir, name);
                        if (r < 0)
                                return r;
                        exists = false;
                }
                if (!exists && mkdirat(ddir, name, 0700) < 0)
                        return -errno;
                _cleanup_close_ int d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (d < 0)
                        return -errno;
                int r = copy_dir(s, d);
                if (r < 0)
                        return r;
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                if (fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, st.st_mode & 07777) < 0)
                        return -errno;
                r = copy_xattrs(s, d);
                /* Last: creating the children changed the dir's mtime. */
                return r < 0 ? r : futimens(d, ts) < 0 ? -errno : 0;
        }
        if (exists) {
                int r = rm_rf_at(ddir, name);
                if (r < 0)
                        return r;
        }
        if (S_ISREG(st.st_mode))
                return copy_file(sdir, ddir, name, &st);
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX + 1];
                ssize_t l = readlinkat(sdir, name, target, PATH_MAX);
                if (l < 0)
                        return -errno;
                target[l] = '\0';
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                if (symlinkat(target, ddir, name) < 0 ||
                    fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return 0;
        }
        if (S_ISFIFO(st.st_mode)) {
                if (mkfifoat(ddir, name, st.st_mode & 07777) < 0 ||
                    fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return 0;
        }
        return 0; /* the store holds no devices or sockets (policy of the layer apply) */
}

static int copy_dir(int sdir, int ddir)
{
        int d2 = fcntl(sdir, F_DUPFD_CLOEXEC, 3);
        if (d2 < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(d2);
        if (!d) {
                close(d2);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                int r = copy_entry(sdir, ddir, de->d_name);
                if (r < 0)
                        return r;
        }
        return 0;
}

int run_copy_layers(char *const *layer_dirs, int target_fd, husk_error_t *err)
{
        for (size_t i = 0; layer_dirs && layer_dirs[i]; i++) {
                _cleanup_close_ int s = open(layer_dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (s < 0)
                        return util_syserr(err, errno, "copy layer %s", layer_dirs[i]);
                int r = copy_dir(s, target_fd);
                if (r < 0)
                        return util_syserr(err, -r, "copy layer %s into the container's root",
                                           layer_dirs[i]);
        }
        return 0;
}
