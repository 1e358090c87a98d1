/* SPDX-License-Identifier: Apache-2.0 */
/* rm -rf by fds, at any depth, with a bounded number of open fds; and the test-only kill points.
 * Host side. */
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

/* One level of the walk: the folder's name in its parent and its identity. */
typedef struct rm_level {
        char *name;
        dev_t dev;
        ino_t ino;
} rm_level;

/* The first entry of dirfd other than "." and ".." (allocated), NULL when the folder is empty.
 * A fresh stream each time: the entries before it were removed, so the scan stays short. */
static int first_entry(int dirfd, char **ret)
{
        int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        DIR *d = fdopendir(dup);
        if (!d) {
                close(dup);
                return -errno;
        }
        rewinddir(d);
        struct dirent *de;
        *ret = NULL;
        while ((errno = 0, de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        *ret = xstrdup(de->d_name);
                        break;
                }
        int e = errno;
        closedir(d);
        return !*ret && e ? -e : 0;
}

/* Remove the plain entries of cur; stop at the first folder that is not empty (*ret_sub, its
 * name) or when cur is empty (*ret_sub NULL). */
static int clear_files(int cur, char **ret_sub)
{
        for (;;) {
                _cleanup_free_ char *name = NULL;
                int r = first_entry(cur, &name);
                if (r < 0)
                        return r;
                if (!name) {
                        *ret_sub = NULL;
                        return 0;
                }
                if (unlinkat(cur, name, 0) == 0 || errno == ENOENT)
                        continue;
                if (errno != EISDIR && errno != EPERM)
                        return -errno;
                if (unlinkat(cur, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        continue;
                if (errno != ENOTEMPTY && errno != EEXIST)
                        return -errno;
                *ret_sub = TAKE_PTR(name);
                return 0;
        }
}

/* Iterative: one fd for the folder being emptied. Going down opens the child (O_NOFOLLOW, same
 * filesystem: never into a mount); going up re-opens ".." and checks it is the folder recorded on
 * the way down, so a folder moved meanwhile makes the walk stop instead of leaving the tree. */
int rm_rf_at(int parent, const char *name)
{
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        _cleanup_close_ int cur = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cur < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(cur, &st) < 0)
                return -errno;
        rm_level *stack = xcalloc(1, sizeof(*stack));
        size_t depth = 0, cap = 1;
        stack[0] = (rm_level){ .name = NULL, .dev = st.st_dev, .ino = st.st_ino };
        int r = 0;
        for (;;) {
                char *sub = NULL;
                if ((r = clear_files(cur, &sub)) < 0)
                        break;
                if (sub) {
                        int fd = openat(cur, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0 || fstat(fd, &st) < 0) {
                                r = -errno;
                                if (fd >= 0)
                                        close(fd);
                                free(sub);
                                break;
                        }
                        if (st.st_dev != stack[depth].dev) {
                                close(fd);
                                free(sub);
                                r = -EXDEV; /* a mount point inside: never removed through */
                                break;
                        }
                        if (depth + 1 == cap) {
                                cap *= 2;
                                stack = xrealloc(stack, cap * sizeof(*stack));
                        }
                        stack[++depth] = (rm_level){ .name = sub, .dev = st.st_dev, .ino = st.st_ino };
                        close(cur);
                        cur = fd;
                        continue;
                }
                if (depth == 0)
                        break;
                /* cur is empty: up to its parent, checked, and remove it there. */
                int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat us, cs;
                if (up < 0 || fstat(up, &us) < 0) {
                        r = -errno;
                        if (up >= 0)
                                close(up);
                        break;
                }
                close(cur);
                cur = up;
                if (us.st_dev != stack[depth - 1].dev || us.st_ino != stack[depth - 1].ino ||
                    fstatat(cur, stack[depth].name, &cs, AT_SYMLINK_NOFOLLOW) < 0 ||
                    cs.st_ino != stack[depth].ino) {
                        r = -ESTALE; /* moved while we removed it */
                        break;
                }
                if (unlinkat(cur, stack[depth].name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                        r = -errno;
                        break;
                }
                free(stack[depth].name);
                depth--;
        }
        for (size_t i = 1; i <= depth; i++)
                free(stack[i].name);
        free(stack);
        if (r < 0)
                return r;
        return unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

void util_kill_point(const char *phase)
{
        /* Test only: HUSK_TEST_KILL_AT=PHASE makes this process die here as a kill -9 would,
         * so tests/integration/killed.sh can check what each phase leaves behind. */
        const char *want = getenv("HUSK_TEST_KILL_AT");
        if (want && strcmp(want, phase) == 0)
                raise(SIGKILL);
}
