/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the fuzz harnesses (see fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("fuzz: invariant broken: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        if (size)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

void fuzz_split(const uint8_t *data, size_t size, fuzz_parts *ret)
{
        const char *p = (const char *)data, *end = p + size;
        size_t seplen = strlen(FUZZ_SEP);
        memset(ret, 0, sizeof(*ret));
        while (ret->n < FUZZ_MAX_PARTS) {
                const char *s = ret->n + 1 < FUZZ_MAX_PARTS ? memmem(p, end - p, FUZZ_SEP, seplen)
                                                            : NULL;
                size_t l = s ? (size_t)(s - p) : (size_t)(end - p);
                ret->part[ret->n] = fuzz_strndup((const uint8_t *)p, l);
                ret->len[ret->n++] = l;
                if (!s)
                        break;
                p = s + seplen;
        }
}

void fuzz_parts_free(fuzz_parts *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->part[i]);
        memset(p, 0, sizeof(*p));
}

static char root_path[4096];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_DP || flag == FTW_D)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

void fuzz_rm_rf(const char *path)
{
        /* FTW_PHYS: a symlink a layer made is removed, never followed. */
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void remove_root(void)
{
        if (root_path[0])
                fuzz_rm_rf(root_path);
}

const char *fuzz_root(void)
{
        if (root_path[0])
                return root_path;
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
                tmp = "/tmp";
        snprintf(root_path, sizeof(root_path), "%s/husk-fuzz-%d-XXXXXX", tmp, (int)getpid());
        if (!mkdtemp(root_path)) {
                perror("fuzz: mkdtemp");
                abort();
        }
        atexit(remove_root);
        return root_path;
}

void fuzz_write_file(int dirfd, const char *name, const char *data, size_t len)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                fuzz_fail("create %s: %s", name, strerror(errno));
        while (len > 0) {
                ssize_t w = write(fd, data, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        fuzz_fail("write %s: %s", name, strerror(errno));
                data += w;
                len -= (size_t)w;
        }
        close(fd);
}
