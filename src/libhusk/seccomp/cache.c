/* SPDX-License-Identifier: Apache-2.0 */
/* Cache of compiled seccomp programs, keyed by a SHA-256 of a canonical serialisation of the
 * profile, the libseccomp version and the native arch. Host side only. A file is
 *   header { magic "HUSKBPF\0", u32 format, u32 n_insns, char key[64] } + n_insns sock_filter
 * written atomically (temp + rename) and validated on read; any mismatch means "compile again".
 * The cache directory must be owned by us and not writable by others: a planted file would
 * otherwise become the container's filter. */
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <fcntl.h>
#include "util/sha256.h"
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_MAGIC "HUSKBPF"
/* Bump when the compiled output for a given profile changes (e.g. the ENOSYS stub). */
#define CACHE_FORMAT 1

struct cache_header {
        char magic[8];
        uint32_t format;
        uint32_t n_insns;
        char key[64];
};

static void feed(sha256_ctx *md, const char *tag, const void *data, size_t len)
{
        uint64_t l = len;
        sha256_update(md, tag, strlen(tag) + 1);
        sha256_update(md, &l, sizeof(l));
        if (len)
                sha256_update(md, data, len);
}

static void feed_u64(sha256_ctx *md, const char *tag, uint64_t v)
{
        feed(md, tag, &v, sizeof(v));
}

static void feed_str(sha256_ctx *md, const char *tag, const char *s)
{
        feed(md, tag, s ? s : "", s ? strlen(s) : 0);
        feed_u64(md, "null", s == NULL);
}

static void feed_syscall(sha256_ctx *md, const config_seccomp_syscall *sc)
{
        feed_u64(md, "names", sc->n_names);
        for (size_t k = 0; k < sc->n_names; k++)
                feed_str(md, "name", sc->names[k]);
        feed_u64(md, "action", sc->action);
        feed_u64(md, "has_errno", sc->has_errno_ret);
        feed_u64(md, "errno", sc->errno_ret);
        feed_u64(md, "args", sc->n_args);
        for (size_t a = 0; a < sc->n_args; a++) {
                feed_u64(md, "index", sc->args[a].index);
                feed_u64(md, "value", sc->args[a].value);
                feed_u64(md, "value2", sc->args[a].value_two);
                feed_u64(md, "op", sc->args[a].op);
        }
}

void seccomp_cache_key(const config_seccomp *s, char ret_hex[65])
{
        const struct scmp_version *v = seccomp_version();
        sha256_ctx ctx, *md = &ctx;
        uint8_t dig[SHA256_LEN];
        sha256_init(md);
        feed_u64(md, "husk-seccomp-format", CACHE_FORMAT);
        feed_u64(md, "libseccomp", (uint64_t)v->major << 32 | v->minor << 16 | v->micro);
        feed_u64(md, "native", seccomp_arch_native());
        feed_u64(md, "default", s->default_action);
        feed_u64(md, "has_default_errno", s->has_default_errno_ret);
        feed_u64(md, "default_errno", s->default_errno_ret);
        feed_u64(md, "arches", s->n_architectures);
        for (size_t i = 0; i < s->n_architectures; i++)
                feed_str(md, "arch", s->architectures[i]);
        feed_u64(md, "flags", s->n_flags);
        for (size_t i = 0; i < s->n_flags; i++)
                feed_str(md, "flag", s->flags[i]);
        /* listenerPath and listenerMetadata do not change the program: not part of the key. */
        feed_u64(md, "syscalls", s->n_syscalls);
        for (size_t i = 0; i < s->n_syscalls; i++)
                feed_syscall(md, &s->syscalls[i]);
        sha256_final(md, dig);
        for (unsigned int i = 0; i < SHA256_LEN; i++)
                snprintf(ret_hex + 2 * i, 3, "%02x", dig[i]);
        ret_hex[64] = '\0';
}

static int open_cache_dir(const char *dir, bool create)
{
        if (create && mkdir_p(dir, 0700) < 0)
                return -1;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 0022)) {
                close(fd);
                return -1;
        }
        return fd;
}

/* 0 and the program on a valid hit; negative on a miss or an invalid file. */
int seccomp_cache_lookup(const char *cache_dir, const char *key, struct sock_filter **ret,
                         size_t *ret_len);
int seccomp_cache_lookup(const char *cache_dir, const char *key, struct sock_filter **ret,
                         size_t *ret_len)
{
        _cleanup_close_ int dfd = open_cache_dir(cache_dir, false);
        if (dfd < 0)
                return -ENOENT;
        _cleanup_free_ char *name = xasprintf("%s.bpf", key);
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct stat st;
        struct cache_header h;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
                return -EINVAL;
        size_t size = (size_t)st.st_size;
        if (size < sizeof(h) || (size - sizeof(h)) % sizeof(struct sock_filter) != 0)
                return -EINVAL;
        if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
                return -EIO;
        size_t n = (size - sizeof(h)) / sizeof(struct sock_filter);
        if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.format != CACHE_FORMAT ||
            h.n_insns != n || n == 0 || n > BPF_MAXINSNS || memcmp(h.key, key, 64) != 0)
                return -EINVAL;
        _cleanup_free_ struct sock_filter *insns = xcalloc(n, sizeof(*insns));
        if (pread(fd, insns, n * sizeof(*insns), sizeof(h)) != (ssize_t)(n * sizeof(*insns)))
                return -EIO;
        *ret = TAKE_PTR(insns);
        *ret_len = n;
        return 0;
}

void seccomp_cache_store(const char *cache_dir, const char *key, const struct sock_filter *insns,
                         size_t len);
void seccomp_cache_store(const char *cache_dir, const char *key, const struct sock_filter *insns,
                         size_t len)
{
        /* A cache that cannot be written only costs a recompile next time: errors are dropped. */
        _cleanup_close_ int dfd = open_cache_dir(cache_dir, true);
        if (dfd < 0)
                return;
        struct cache_header h = { .magic = CACHE_MAGIC, .format = CACHE_FORMAT,
                                  .n_insns = (uint32_t)len };
        memcpy(h.key, key, 64);
        size_t total = sizeof(h) + len * sizeof(*insns);
        _cleanup_free_ char *buf = xmalloc(total);
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), insns, len * sizeof(*insns));
        _cleanup_free_ char *name = xasprintf("%s.bpf", key);
        (void)write_file_atomic_at(dfd, name, buf, total, 0600);
}
