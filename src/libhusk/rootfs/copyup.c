/* SPDX-License-Identifier: Apache-2.0 */
/* "tmpcopyup" (podman --tmpfs): a tmpfs mounted over an image directory starts with a copy of that
 * directory's content. Container side, in the container's mount namespace, before the pivot. The
 * copy goes from an fd of the covered directory to an fd of the new tmpfs, one *at() call per entry,
 * never following a symlink. */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define COPYUP_MAX_DEPTH 128

static int copy_file(int sfd, int dfd, const char *name, const struct stat *st)
{
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                         st->st_mode & 07777);
        if (out < 0)
                return -errno;
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                int r = write_all(out, buf, (size_t)n);
                if (r < 0)
                        return r;
        }
        if (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0)
                return -errno;
        return 0;
}

static int copy_tree(int sfd, int dfd, unsigned depth, husk_error_t *err, const char *dest);

static int copy_entry(int sfd, int dfd, const char *name, unsigned depth, husk_error_t *err,
                      const char *dest)
{
        struct stat st;
        if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return util_syserr(err, errno, "tmpcopyup %s: stat %s", dest, name);
        int r = 0;
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(dfd, name, 0700) < 0)
                        return util_syserr(err, errno, "tmpcopyup %s: mkdir %s", dest, name);
                _cleanup_close_ int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s2 < 0 || d2 < 0)
                        return util_syserr(err, errno, "tmpcopyup %s: open %s", dest, name);
                r = copy_tree(s2, d2, depth + 1, err, dest);
                if (r < 0)
                        return r;
                if (fchown(d2, st.st_uid, st.st_gid) < 0 || fchmod(d2, st.st_mode & 07777) < 0)
                        return util_syserr(err, errno, "tmpcopyup %s: chmod %s", dest, name);
                return 0;
        }
        if (S_ISREG(st.st_mode))
                r = copy_file(sfd, dfd, name, &st);
        else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t l = readlinkat(sfd, name, target, sizeof(target) - 1);
                if (l < 0)
                        r = -errno;
                else {
                        target[l] = '\0';
                        if (symlinkat(target, dfd, name) < 0 ||
                            fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                                r = -errno;
                }
        } else if (mknodat(dfd, name, st.st_mode, st.st_rdev) < 0 ||
                   fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno; /* fifos, sockets, device nodes */
        if (r < 0)
                return util_syserr(err, -r, "tmpcopyup %s: copy %s", dest, name);
        return 0;
}

static int copy_tree(int sfd, int dfd, unsigned depth, husk_error_t *err, const char *dest)
{
        if (depth > COPYUP_MAX_DEPTH)
                return husk_error_set(err, ELOOP, "tmpcopyup %s: directories nested too deep", dest);
        int dup = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return util_syserr(err, errno, "tmpcopyup %s", dest);
        _cleanup_closedir_ DIR *d = fdopendir(dup);
        if (!d) {
                close(dup);
                return util_syserr(err, errno, "tmpcopyup %s: opendir", dest);
        }
        for (struct dirent *e; (errno = 0, e = readdir(d));) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                int r = copy_entry(sfd, dfd, e->d_name, depth, err, dest);
                if (r < 0)
                        return r;
        }
        if (errno)
                return util_syserr(err, errno, "tmpcopyup %s: readdir", dest);
        return 0;
}

int rootfs_copyup(int under_fd, int tmpfs_fd, bool keep_mode, husk_error_t *err, const char *dest)
{
        _cleanup_close_ int s = openat(under_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int d = openat(tmpfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0 || d < 0)
                return util_syserr(err, errno, "tmpcopyup %s: open", dest);
        int r = copy_tree(s, d, 0, err, dest);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(s, &st) < 0 || fchown(d, st.st_uid, st.st_gid) < 0 ||
            (!keep_mode && fchmod(d, st.st_mode & 07777) < 0))
                return util_syserr(err, errno, "tmpcopyup %s: owner and mode", dest);
        return 0;
}
