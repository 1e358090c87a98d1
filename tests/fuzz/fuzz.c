/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the fuzz harnesses (see fuzz.h). */
#include "fuzz.h"
#include "../../src/serve/serve.h"
#include "util/json.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

size_t fuzz_split_line(const uint8_t *data, size_t size, char **ret_line, char **ret_body,
                       size_t *ret_body_len)
{
        const uint8_t *nl = memchr(data, '\n', size);
        size_t ll = nl ? (size_t)(nl - data) : size;
        *ret_line = fuzz_strndup(data, ll);
        *ret_body_len = nl ? size - ll - 1 : 0;
        *ret_body = fuzz_strndup(nl ? nl + 1 : data + size, *ret_body_len);
        return ll;
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

void fuzz_req_init(serve_req *r, const char *method, const char *path, const char *raw_path,
                   const char *query, const char *body, size_t len)
{
        memset(r, 0, sizeof(*r));
        r->method = method;
        r->path = path;
        r->raw_path = raw_path;
        r->query = query;
        r->body = body;
        r->len = len;
        r->host = "127.0.0.1:9000";
        r->principal = "AKIDFUZZ";
        r->request_id = "fuzz-request";
}

const char *fuzz_resp_header(const serve_resp *w, const char *name)
{
        for (size_t i = 0; i < w->n_headers; i++)
                if (strcasecmp(w->headers[i].name, name) == 0)
                        return w->headers[i].value;
        return NULL;
}

static bool utf8_ok(const unsigned char *s, size_t len)
{
        for (size_t i = 0; i < len;) {
                unsigned c = s[i], n, cp;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
                if (!n || len - i < n)
                        return false;
                cp = c & (0x7f >> n);
                for (unsigned k = 1; k < n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + k] & 0x3f);
                }
                if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                        return false;
                i += n;
        }
        return true;
}

json_value *fuzz_json_object(const char *what, const char *body, size_t len)
{
        if (!utf8_ok((const unsigned char *)body, len))
                fuzz_fail("%s: the answer is not UTF-8: %s", what, body);
        json_value *v = NULL;
        char why[128];
        if (json_parse(body, len, &v, why, sizeof(why)) < 0 || v->type != JSON_OBJECT)
                fuzz_fail("%s: the answer is not a JSON object (%s): %s", what, why, body);
        return v;
}
