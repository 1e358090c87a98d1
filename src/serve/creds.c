/* SPDX-License-Identifier: Apache-2.0 */
/* husk serve: STORE/credentials, the one key pair the front door accepts. It is written in the
 * AWS CLI's credentials-file format, so that AWS_SHARED_CREDENTIALS_FILE=STORE/credentials works:
 *   [default]
 *   aws_access_key_id = AKIA...           (20 characters, AKIA and 16 of A-Z2-7)
 *   aws_secret_access_key = ...           (40 characters of A-Za-z0-9+/)
 * Created once, mode 0600, with O_EXCL through a temporary name (two servers starting at once
 * agree on one key). A file others may read, or not owned by us, is refused: it would hand the
 * key to every local user, which is what signing is to prevent. */
#include "auth.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define CREDS_FILE_MAX 4096

char *serve_creds_path(const char *store)
{
        return xasprintf("%s/credentials", store);
}

static int random_bytes(unsigned char *b, size_t n)
{
        size_t got = 0;
        while (got < n) {
                ssize_t k = getrandom(b + got, n - got, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                got += (size_t)k;
        }
        return 0;
}

/* Each character uniformly from alphabet (whose size divides 256: 32 or 64). */
static int random_text(char *out, size_t n, const char *alphabet)
{
        unsigned char b[64];
        size_t m = strlen(alphabet);
        if (n > sizeof(b) || random_bytes(b, n) < 0)
                return -EIO;
        for (size_t i = 0; i < n; i++)
                out[i] = alphabet[b[i] % m];
        out[n] = '\0';
        explicit_bzero(b, sizeof(b));
        return 0;
}

static int creds_new(serve_creds *c)
{
        memcpy(c->key_id, "AKIA", 4);
        if (random_text(c->key_id + 4, SERVE_KEY_ID_LEN - 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") < 0 ||
            random_text(c->secret, SERVE_SECRET_LEN,
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") < 0)
                return -EIO;
        return 0;
}

/* "name = value" lines; [sections] and comments skipped. */
static int creds_parse(const char *text, serve_creds *c)
{
        memset(c, 0, sizeof(*c));
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t n = strcspn(l, "\n");
                const char *eq = memchr(l, '=', n);
                if (!eq)
                        continue;
                size_t kl = (size_t)(eq - l);
                while (kl && (l[kl - 1] == ' ' || l[kl - 1] == '\t'))
                        kl--;
                const char *v = eq + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                size_t vl = n - (size_t)(v - l);
                while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
                        vl--;
                if (kl == 17 && strncmp(l, "aws_access_key_id", 17) == 0 && vl == SERVE_KEY_ID_LEN)
                        memcpy(c->key_id, v, vl);
                else if (kl == 21 && strncmp(l, "aws_secret_access_key", 21) == 0 &&
                         vl == SERVE_SECRET_LEN)
                        memcpy(c->secret, v, vl);
        }
        return c->key_id[0] && c->secret[0] ? 0 : -EINVAL;
}

static int creds_create(const char *path, char *why, size_t why_len)
{
        serve_creds c;
        if (creds_new(&c) < 0) {
                snprintf(why, why_len, "no random bytes for a new key");
                return -EIO;
        }
        _cleanup_free_ char *text = xasprintf("[default]\naws_access_key_id = %s\n"
                                              "aws_secret_access_key = %s\n",
                                              c.key_id, c.secret);
        _cleanup_free_ char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                snprintf(why, why_len, "create %s: %s", tmp, strerror(errno));
                return -errno;
        }
        int rc = fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0
                         ? -errno
                         : 0;
        close(fd);
        /* link, not rename: a key another server created meanwhile stays. */
        if (!rc && link(tmp, path) < 0 && errno != EEXIST)
                rc = -errno;
        if (rc)
                snprintf(why, why_len, "write %s: %s", path, strerror(-rc));
        (void)unlink(tmp);
        explicit_bzero(text, strlen(text));
        explicit_bzero(&c, sizeof(c));
        return rc;
}

int serve_creds_load(const char *store, bool create, serve_creds *ret, char *why, size_t why_len)
{
        _cleanup_free_ char *path = serve_creds_path(store);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT && create) {
                int r = creds_create(path, why, why_len);
                if (r < 0)
                        return r;
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0) {
                int e = errno;
                snprintf(why, why_len, "%s: %s", path, strerror(e));
                return -e;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                snprintf(why, why_len, "%s: not a regular file", path);
                return -EINVAL;
        }
        if ((st.st_mode & 077) || st.st_uid != geteuid()) {
                close(fd);
                snprintf(why, why_len, "%s: others may read it (mode %04o, owner %u): it must be "
                         "mode 0600 and owned by uid %u (chmod 600 / chown it)", path,
                         (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)geteuid());
                return -EPERM;
        }
        char buf[CREDS_FILE_MAX + 1];
        ssize_t n = read(fd, buf, CREDS_FILE_MAX);
        close(fd);
        if (n < 0) {
                snprintf(why, why_len, "read %s: %s", path, strerror(errno));
                return -EIO;
        }
        buf[n] = '\0';
        int r = creds_parse(buf, ret);
        explicit_bzero(buf, sizeof(buf));
        if (r < 0) {
                snprintf(why, why_len, "%s: needs aws_access_key_id (%d characters) and "
                         "aws_secret_access_key (%d characters)", path, SERVE_KEY_ID_LEN,
                         SERVE_SECRET_LEN);
                return r;
        }
        return 0;
}
