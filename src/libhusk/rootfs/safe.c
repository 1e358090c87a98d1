/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving paths inside a container rootfs by fd (STYLE.md §3). Container side, before the pivot,
 * in the container's mount namespace. openat2(RESOLVE_IN_ROOT) when the kernel has it; otherwise a
 * component-by-component walk with O_NOFOLLOW that expands symlinks itself and clamps ".." at the
 * root. Either way a symlink in the image can never send a path to the host (CVE-2021-30465). */
#include "rootfs/rootfs-internal.h"
#include "util/openat2.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

bool rootfs_force_fallback = false;
static bool openat2_missing = false;

const char *fd_path(char buf[FD_PATH_MAX], int fd)
{
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

static int try_openat2(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        for (int tries = 0; tries < 32; tries++) {
                long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                /* EAGAIN: a rename raced with the lookup; the kernel asks us to retry */
                if (errno != EAGAIN)
                        return -errno;
        }
        return -EAGAIN;
}

/* The fallback: stack of O_PATH fds from the root down; ".." pops (never above the root). */
typedef struct walk {
        int *fds;
        size_t n, cap;
} walk;

static void walk_done(walk *w)
{
        for (size_t i = 1; i < w->n; i++) /* fds[0] is the caller's rootfd */
                close(w->fds[i]);
        free(w->fds);
}

static void walk_push(walk *w, int fd)
{
        if (w->n == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 16;
                w->fds = xrealloc(w->fds, w->cap * sizeof(int));
        }
        w->fds[w->n++] = fd;
}

static void walk_to_root(walk *w)
{
        while (w->n > 1)
                close(w->fds[--w->n]);
}

static int fallback_open(int rootfd, const char *path, int flags, bool nofollow_last)
{
        walk w = { 0 };
        walk_push(&w, rootfd);
        _cleanup_free_ char *rest = xstrdup(path);
        int links = 0, r = 0;
        char *p = rest;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                char *e = strchrnul(p, '/');
                bool last = e[strspn(e, "/")] == '\0';
                _cleanup_free_ char *name = xstrndup(p, (size_t)(e - p));
                p = e;
                if (strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        if (w.n > 1)
                                close(w.fds[--w.n]);
                        continue;
                }
                int fd = openat(w.fds[w.n - 1], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        goto out;
                }
                struct stat st;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close(fd);
                        goto out;
                }
                if (!S_ISLNK(st.st_mode) || (last && nofollow_last)) {
                        walk_push(&w, fd);
                        continue;
                }
                /* a symlink: expand it here, relative to the root when absolute */
                char target[PATH_MAX];
                ssize_t l = readlinkat(fd, "", target, sizeof(target) - 1);
                close(fd);
                if (l < 0 || ++links > 40) {
                        r = l < 0 ? -errno : -ELOOP;
                        goto out;
                }
                target[l] = '\0';
                if (target[0] == '/')
                        walk_to_root(&w);
                char *np = xasprintf("%s/%s", target, p);
                free(rest);
                rest = np;
                p = rest;
        }
        int top = w.fds[w.n - 1];
        struct stat st;
        if (fstat(top, &st) < 0) {
                r = -errno;
                goto out;
        }
        if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
                r = -ENOTDIR;
                goto out;
        }
        r = fcntl(top, F_DUPFD_CLOEXEC, 3);
        if (r < 0)
                r = -errno;
out:
        walk_done(&w);
        return r;
}

int safe_open_in_root(int rootfd, const char *path, int extra_flags, bool nofollow_last)
{
        int flags = extra_flags | (nofollow_last ? O_NOFOLLOW : 0);
        if (!rootfs_force_fallback && !openat2_missing) {
                int fd = try_openat2(rootfd, path, flags);
                if (fd != -ENOSYS && fd != -EPERM) /* EPERM: a seccomp filter without openat2 */
                        return fd;
                openat2_missing = true;
        }
        return fallback_open(rootfd, path, flags & ~O_NOFOLLOW, nofollow_last);
}

int safe_open_parent_in_root(int rootfd, const char *path, bool mkdir, int *ret_dirfd,
                             char **ret_base)
{
        _cleanup_free_ char *clean = rootfs_clean_path(path);
        if (strcmp(clean, "/") == 0)
                return -EINVAL;
        char *slash = strrchr(clean, '/');
        _cleanup_free_ char *base = xstrdup(slash + 1);
        *slash = '\0';
        const char *parent = clean[0] ? clean : "/";
        int fd = mkdir ? safe_mkdir_p_in_root(rootfd, parent, 0755)
                       : safe_open_in_root(rootfd, parent, O_DIRECTORY, false);
        if (fd < 0)
                return fd;
        *ret_dirfd = fd;
        *ret_base = TAKE_PTR(base);
        return 0;
}

/* Resolve PATH inside the root as far as it exists, expanding every symlink (the last one too)
 * ourselves; the missing tail is appended lexically. The result has no symlink in its existing
 * part, so creating the tail creates what a dangling image symlink points to, inside the root
 * (e.g. /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf). */
char *safe_resolve_in_root(int rootfd, const char *path, int *ret_err)
{
        walk w = { 0 };
        walk_push(&w, rootfd);
        char **names = xcalloc(1, sizeof(char *)); /* names[i] is the name of w.fds[i], i >= 1 */
        size_t names_cap = 1;
        _cleanup_free_ char *rest = xstrdup(path);
        char *result = NULL, *p = rest;
        int links = 0, r = 0;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                char *e = strchrnul(p, '/');
                _cleanup_free_ char *name = xstrndup(p, (size_t)(e - p));
                p = e;
                if (strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        if (w.n > 1) {
                                close(w.fds[--w.n]);
                                free(names[w.n]);
                        }
                        continue;
                }
                int fd = openat(w.fds[w.n - 1], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        /* the missing tail: no symlink can be in it */
                        size_t len = strlen(name) + strlen(p) + 4;
                        for (size_t i = 1; i < w.n; i++)
                                len += strlen(names[i]) + 1;
                        char *joined = xmalloc(len);
                        joined[0] = '\0';
                        for (size_t i = 1; i < w.n; i++)
                                strcat(strcat(joined, "/"), names[i]);
                        strcat(strcat(strcat(joined, "/"), name), p);
                        result = rootfs_clean_path(joined);
                        free(joined);
                        goto out;
                }
                if (fd < 0) {
                        r = -errno;
                        goto out;
                }
                struct stat st;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close(fd);
                        goto out;
                }
                if (!S_ISLNK(st.st_mode)) {
                        walk_push(&w, fd);
                        if (w.n > names_cap) {
                                names_cap = w.cap;
                                names = xrealloc(names, names_cap * sizeof(char *));
                        }
                        names[w.n - 1] = TAKE_PTR(name);
                        continue;
                }
                char target[PATH_MAX];
                ssize_t l = readlinkat(fd, "", target, sizeof(target) - 1);
                close(fd);
                if (l < 0 || ++links > 40) {
                        r = l < 0 ? -errno : -ELOOP;
                        goto out;
                }
                target[l] = '\0';
                if (target[0] == '/')
                        while (w.n > 1) {
                                close(w.fds[--w.n]);
                                free(names[w.n]);
                        }
                char *np = xasprintf("%s/%s", target, p);
                free(rest);
                rest = np;
                p = rest;
        }
        {
                size_t len = 2;
                for (size_t i = 1; i < w.n; i++)
                        len += strlen(names[i]) + 1;
                result = xmalloc(len);
                result[0] = '\0';
                for (size_t i = 1; i < w.n; i++)
                        strcat(strcat(result, "/"), names[i]);
                if (!result[0])
                        strcpy(result, "/");
        }
out:
        for (size_t i = 1; i < w.n; i++)
                free(names[i]);
        free(names);
        walk_done(&w);
        if (!result && ret_err)
                *ret_err = r;
        return result;
}

int safe_mkdir_p_in_root(int rootfd, const char *path, mode_t mode)
{
        int r = 0;
        _cleanup_free_ char *clean = safe_resolve_in_root(rootfd, path, &r);
        if (!clean)
                return r;
        _cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        /* Walk prefixes from the root; each prefix is resolved in root (symlinks stay inside), a
         * missing name is created with mkdirat on its resolved parent (mkdirat never follows). */
        for (char *s = clean + 1; *s;) {
                char *e = strchrnul(s, '/');
                char saved = *e;
                *e = '\0';
                int fd = safe_open_in_root(rootfd, clean, O_DIRECTORY, false);
                if (fd == -ENOENT) {
                        if (mkdirat(cur, s, mode) < 0 && errno != EEXIST)
                                return -errno;
                        fd = safe_open_in_root(rootfd, clean, O_DIRECTORY, false);
                }
                if (fd < 0)
                        return fd;
                close(cur);
                cur = fd;
                *e = saved;
                s = saved ? e + 1 : e;
        }
        return TAKE_FD(cur);
}

int safe_create_file_in_root(int rootfd, const char *path_in, mode_t mode)
{
        int fd = safe_open_in_root(rootfd, path_in, 0, false);
        if (fd != -ENOENT)
                return fd;
        int r = 0;
        _cleanup_free_ char *path = safe_resolve_in_root(rootfd, path_in, &r);
        if (!path)
                return r;
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *base = NULL;
        r = safe_open_parent_in_root(rootfd, path, true, &dirfd, &base);
        if (r < 0)
                return r;
        /* O_EXCL|O_NOFOLLOW: a dangling symlink planted here is not followed */
        int wfd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (wfd < 0 && errno != EEXIST)
                return -errno;
        if (wfd >= 0)
                close(wfd);
        return safe_open_in_root(rootfd, path, 0, false);
}
