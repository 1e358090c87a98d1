/* SPDX-License-Identifier: Apache-2.0 */
/* libarchive and libcrypto, loaded on first use.
 *
 * Only the image commands need them, but linked normally they cost every `husk run` the dynamic
 * loading of libarchive's and libcrypto's whole dependency trees (libxml2, ICU, libstdc++, nettle,
 * lzma, zstd, ...: 17 libraries, measured ~10 ms of relocations and constructors and ~5 MB of
 * peak RSS per start on the benchmark host). husk is linked without them: the functions husk
 * calls are defined here with the libraries' own prototypes and forward to the real ones, found
 * with dlopen/dlsym the first time one is called. The image code calls them as usual.
 *
 * When a library cannot be loaded, the functions that make the objects (archive_read_new,
 * EVP_MD_CTX_new, EVP_sha256, EVP_Digest) fail the way they document (NULL, 0), so callers
 * report an error. The others can only be called with such an object, so the library is loaded by
 * then; reaching one without it is a bug, and aborts like the x* allocators. */
#include "util/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>

#ifndef HUSK_LIBARCHIVE_SONAME
#define HUSK_LIBARCHIVE_SONAME "libarchive.so.13"
#endif
#ifndef HUSK_LIBCRYPTO_SONAME
#define HUSK_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

enum { LIB_ARCHIVE, LIB_CRYPTO, LIB_COUNT };

static void *lib_handle(int lib)
{
        static void *handles[LIB_COUNT];
        static bool failed[LIB_COUNT];
        static const char *const names[LIB_COUNT] = { HUSK_LIBARCHIVE_SONAME,
                                                      HUSK_LIBCRYPTO_SONAME };
        /* The layers of one load are unpacked by several threads (store/load.c): the first calls
         * may race, so the handles are looked up under a lock. */
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&lock);
        if (!handles[lib] && !failed[lib]) {
                /* RTLD_LOCAL: the library's symbols never interpose on anything of ours. */
                handles[lib] = dlopen(names[lib], RTLD_NOW | RTLD_LOCAL);
                failed[lib] = handles[lib] == NULL;
        }
        void *h = handles[lib];
        pthread_mutex_unlock(&lock);
        return h;
}

/* The address of NAME in LIB, or NULL when the library or the symbol is missing. */
static void *lib_sym(int lib, const char *name)
{
        void *h = lib_handle(lib);
        return h ? dlsym(h, name) : NULL;
}

static void *lib_sym_or_abort(int lib, const char *name)
{
        void *p = lib_sym(lib, name);
        if (!p)
                abort(); /* see the file comment: only reachable with the library loaded */
        return p;
}

/* FORWARD(lib, ret, name, (params), (args)): define name() to call the library's name(). */
#define FORWARD(lib, ret, name, params, args)                                                      \
        ret name params                                                                            \
        {                                                                                          \
                static __typeof__(&name) fn_;                                                      \
                __typeof__(&name) fn = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);                    \
                if (!fn) {                                                                         \
                        fn = (__typeof__(&name))lib_sym_or_abort(lib, #name);                      \
                        __atomic_store_n(&fn_, fn, __ATOMIC_RELEASE);                              \
                }                                                                                  \
                return fn args;                                                                    \
        }

/* Like FORWARD, but returns FAIL when the library cannot be loaded. */
#define FORWARD_OR(lib, ret, name, params, args, fail)                                             \
        ret name params                                                                            \
        {                                                                                          \
                static __typeof__(&name) fn_;                                                      \
                __typeof__(&name) fn = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);                    \
                if (!fn) {                                                                         \
                        fn = (__typeof__(&name))lib_sym(lib, #name);                               \
                        __atomic_store_n(&fn_, fn, __ATOMIC_RELEASE);                              \
                }                                                                                  \
                if (!fn)                                                                           \
                        return fail;                                                               \
                return fn args;                                                                    \
        }

/* ---- libarchive ---- */
FORWARD_OR(LIB_ARCHIVE, struct archive *, archive_read_new, (void), (), NULL)
FORWARD_OR(LIB_ARCHIVE, const char *, archive_version_details, (void), (),
           "libarchive (not loadable: " HUSK_LIBARCHIVE_SONAME ")")
/* Cleanup paths free NULL without having loaded anything. */
int archive_read_free(struct archive *a)
{
        static __typeof__(&archive_read_free) fn_;
        __typeof__(&archive_read_free) fn = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);
        if (!a)
                return ARCHIVE_OK;
        if (!fn) {
                fn = (__typeof__(&archive_read_free))lib_sym_or_abort(LIB_ARCHIVE,
                                                              "archive_read_free");
                __atomic_store_n(&fn_, fn, __ATOMIC_RELEASE);
        }
        return fn(a);
}
FORWARD(LIB_ARCHIVE, const char *, archive_error_string, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, la_ssize_t, archive_read_data, (struct archive * a, void *buf, size_t len),
        (a, buf, len))
FORWARD(LIB_ARCHIVE, int, archive_read_data_block,
        (struct archive * a, const void **buf, size_t *len, la_int64_t *off), (a, buf, len, off))
FORWARD(LIB_ARCHIVE, int, archive_read_data_skip, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_next_header,
        (struct archive * a, struct archive_entry **e), (a, e))
FORWARD(LIB_ARCHIVE, int, archive_read_open,
        (struct archive * a, void *data, archive_open_callback *o, archive_read_callback *r,
         archive_close_callback *c),
        (a, data, o, r, c))
FORWARD(LIB_ARCHIVE, int, archive_read_open_fd, (struct archive * a, int fd, size_t block),
        (a, fd, block))
FORWARD(LIB_ARCHIVE, la_int64_t, archive_filter_bytes, (struct archive * a, int n), (a, n))
FORWARD(LIB_ARCHIVE, int, archive_filter_code, (struct archive * a, int n), (a, n))
FORWARD(LIB_ARCHIVE, int, archive_filter_count, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_entry_sparse_count, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, int, archive_read_support_filter_bzip2, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_filter_gzip, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_filter_none, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_filter_xz, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_filter_zstd, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_format_empty, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_format_raw, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, int, archive_read_support_format_tar, (struct archive * a), (a))
FORWARD(LIB_ARCHIVE, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, int, archive_entry_size_is_set, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, const char *, archive_entry_symlink, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, int, archive_entry_xattr_reset, (struct archive_entry * e), (e))
FORWARD(LIB_ARCHIVE, int, archive_entry_xattr_next,
        (struct archive_entry * e, const char **name, const void **value, size_t *len),
        (e, name, value, len))

/* Variadic: format here, hand the text over as "%s". */
void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
        static __typeof__(&archive_set_error) fn_;
        __typeof__(&archive_set_error) fn = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);
        if (!fn) {
                fn = (__typeof__(&archive_set_error))lib_sym_or_abort(LIB_ARCHIVE,
                                                              "archive_set_error");
                __atomic_store_n(&fn_, fn, __ATOMIC_RELEASE);
        }
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fn(a, code, "%s", msg);
}

/* ---- libcrypto ---- */
FORWARD_OR(LIB_CRYPTO, EVP_MD_CTX *, EVP_MD_CTX_new, (void), (), NULL)
FORWARD_OR(LIB_CRYPTO, const EVP_MD *, EVP_sha256, (void), (), NULL)
FORWARD_OR(LIB_CRYPTO, int, EVP_Digest,
           (const void *data, size_t n, unsigned char *md, unsigned int *len, const EVP_MD *type,
            ENGINE *impl),
           (data, n, md, len, type, impl), 0)
void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
        static __typeof__(&EVP_MD_CTX_free) fn_;
        __typeof__(&EVP_MD_CTX_free) fn = __atomic_load_n(&fn_, __ATOMIC_ACQUIRE);
        if (!ctx)
                return;
        if (!fn) {
                fn = (__typeof__(&EVP_MD_CTX_free))lib_sym_or_abort(LIB_CRYPTO, "EVP_MD_CTX_free");
                __atomic_store_n(&fn_, fn, __ATOMIC_RELEASE);
        }
        fn(ctx);
}
FORWARD(LIB_CRYPTO, int, EVP_DigestInit_ex, (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl),
        (ctx, type, impl))
FORWARD(LIB_CRYPTO, int, EVP_DigestUpdate, (EVP_MD_CTX * ctx, const void *d, size_t n),
        (ctx, d, n))
FORWARD(LIB_CRYPTO, int, EVP_DigestFinal_ex, (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *n),
        (ctx, md, n))
