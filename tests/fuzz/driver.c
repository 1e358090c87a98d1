/* SPDX-License-Identifier: Apache-2.0 */
/* Regression driver for the fuzz harnesses without libFuzzer (plain gcc, `make check`): feeds
 * every file of the given folders (or files) to LLVMFuzzerTestOneInput once, in name order, and
 * prints TAP. Without arguments it reads $HUSK_SRCDIR/tests/fuzz/corpus/NAME, NAME being the
 * program name without its "fuzz_" prefix. A crash or an abort in the harness ends the run
 * without its plan line, which the TAP driver reports as a failure. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_MAX_INPUT (4u << 20) /* the corpora hold kilobytes; a larger file is a mistake */

typedef struct list {
        char **v;
        size_t n;
} list;

static void add(list *l, const char *path)
{
        l->v = realloc(l->v, (l->n + 1) * sizeof(char *));
        if (!l->v || !(l->v[l->n] = strdup(path)))
                abort();
        l->n++;
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(list *l, const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
                add(l, path);
                return 0;
        }
        DIR *d = opendir(path);
        if (!d) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
                add(l, p);
        }
        closedir(d);
        return 0;
}

/* The name shown in TAP: from "corpus/" on when the path has it. */
static const char *shown(const char *path)
{
        const char *c = strstr(path, "/corpus/");
        return c ? c + 1 : path;
}

static int read_all(const char *path, uint8_t **ret, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FUZZ_MAX_INPUT) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        /* One byte more than needed: a harness may not read past size, ASan builds catch it. */
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        size_t len = 0;
        if (!buf)
                abort();
        while (len < (size_t)st.st_size) {
                ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
                if (r <= 0)
                        break;
                len += (size_t)r;
        }
        close(fd);
        *ret = buf;
        *ret_len = len;
        return 0;
}

int main(int argc, char **argv)
{
        list l = { 0 };
        int bad = 0;
        /* TAP on the original stdout; what harnessed code prints on stdout (usage text) goes to
         * stderr, out of the TAP stream. */
        int tfd = fcntl(1, F_DUPFD_CLOEXEC, 3);
        FILE *tap = tfd >= 0 ? fdopen(tfd, "w") : NULL;
        if (!tap || dup2(2, 1) < 0) {
                perror("driver: stdout");
                return 99;
        }
        if (argc > 1) {
                for (int i = 1; i < argc; i++)
                        if (collect(&l, argv[i]) < 0)
                                bad = 1;
        } else {
                const char *src = getenv("HUSK_SRCDIR");
                const char *name = strrchr(argv[0], '/');
                name = name ? name + 1 : argv[0];
                if (strncmp(name, "lt-", 3) == 0)
                        name += 3;
                if (strncmp(name, "fuzz_", 5) == 0)
                        name += 5;
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", src ? src : ".", name);
                if (collect(&l, dir) < 0)
                        bad = 1;
        }
        if (bad) {
                fprintf(tap, "Bail out! no corpus\n");
                return 1;
        }
        qsort(l.v, l.n, sizeof(char *), cmp);
        fprintf(tap, "1..%zu\n", l.n);
        fflush(tap);
        for (size_t i = 0; i < l.n; i++) {
                uint8_t *buf = NULL;
                size_t len = 0;
                if (read_all(l.v[i], &buf, &len) < 0) {
                        fprintf(tap, "not ok %zu - %s: not a readable file under %u bytes\n", i + 1,
                                shown(l.v[i]), FUZZ_MAX_INPUT);
                        bad = 1;
                        free(l.v[i]);
                        continue;
                }
                LLVMFuzzerTestOneInput(buf, len);
                free(buf);
                fprintf(tap, "ok %zu - %s\n", i + 1, shown(l.v[i]));
                fflush(tap);
                free(l.v[i]);
        }
        free(l.v);
        fclose(tap);
        return bad;
}
