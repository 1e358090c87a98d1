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

/* One pass over cur: remove its files and empty folders; stop at the first folder that is not
 * empty (*ret_sub, its name) or at the end (*ret_sub NULL: cur is empty now, unless an entry
 * appeared meanwhile, which the caller's next pass sees). The stream is closed before the walk
 * goes down, so one stream is open at a time. */
static int clear_files(int cur, char **ret_sub)
{
        *ret_sub = NULL;
        int dup = fcntl(cur, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        DIR *d = fdopendir(dup);
        if (!d) {
                close(dup);
                return -errno;
        }
        rewinddir(d); /* the dup shares cur's offset with the last pass */
        struct dirent *de;
        int r = 0;
        bool removed = false;
        while ((errno = 0, de = readdir(d))) {
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        continue;
                removed = true;
                if (de->d_type != DT_DIR && (unlinkat(cur, name, 0) == 0 || errno == ENOENT))
                        continue;
                if (de->d_type != DT_DIR && errno != EISDIR && errno != EPERM) {
                        r = -errno;
                        break;
                }
                if (unlinkat(cur, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        continue;
                if (errno == ENOTDIR && unlinkat(cur, name, 0) == 0)
                        continue; /* DT_UNKNOWN on a file system without d_type */
                if (errno != ENOTEMPTY && errno != EEXIST) {
                        r = -errno;
                        break;
                }
                *ret_sub = xstrdup(name);
                break;
        }
        if (r == 0 && !de && errno)
                r = -errno;
        closedir(d);
        /* Entries were removed while reading: a last pass makes sure none was skipped. */
        if (r == 0 && !*ret_sub && removed)
                return 1;
        return r;
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
                while ((r = clear_files(cur, &sub)) == 1)
                        ; /* until a pass finds nothing */
                if (r < 0)
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
