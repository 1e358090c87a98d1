/* SPDX-License-Identifier: Apache-2.0 */
/* Image sources: an OCI layout or docker-save folder, or an archive of one (staged into a private
 * folder so blobs can be read in any order), or a plain rootfs tarball (docker export style). */
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define JSON_MAX IMAGE_JSON_MAX

static void archive_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
        *a = NULL;
}

static struct archive *archive_reader(int fd)
{
        struct archive *a = archive_read_new();
        if (!a)
                return NULL;
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_bzip2(a);
        if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, 256 * 1024) != ARCHIVE_OK) {
                archive_read_free(a);
                return NULL;
        }
        return a;
}

/* Joins a symlink target to the link's folder inside the archive, resolving ".." without ever
 * going above the archive root. NULL when it would. */
static char *join_inside(const char *link_name, const char *target)
{
        if (target[0] == '/')
                return NULL;
        const char *slash = strrchr(link_name, '/');
        _cleanup_free_ char *full = slash ? xasprintf("%.*s/%s", (int)(slash - link_name), link_name,
                                                      target)
                                          : xstrdup(target);
        char *out = xmalloc(strlen(full) + 1);
        size_t n = 0;
        char *save = NULL;
        for (char *c = strtok_r(full, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        if (n == 0) {
                                free(out);
                                return NULL;
                        }
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                        continue;
                }
                if (n > 0)
                        out[n++] = '/';
                memcpy(out + n, c, strlen(c));
                n += strlen(c);
        }
        out[n] = '\0';
        return out;
}

static int find_name(const image_source_t *src, const char *clean)
{
        for (size_t i = 0; i < src->n_names; i++)
                if (strcmp(src->names[i], clean) == 0)
                        return (int)i;
        return -1;
}

/* No file of an image archive can be larger than a layer blob (and a rootfs tarball's files are
 * bounded by the smaller entry limit): refused from its header, before its data is decompressed
 * (a few KB of bzip2 hold gigabytes of zeros, and skipping them means decompressing them). */
static int check_entry_size(const char *path, struct archive_entry *e, const layer_limits_t *lim,
                            husk_error_t *err)
{
        char l[32];
        if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
            (uint64_t)archive_entry_size(e) <= lim->max_total)
                return 0;
        image_format_size(lim->max_total, l);
        return husk_error_set(err, EFBIG,
                              "%s: entry '%s' holds %lld bytes, more than the layer limit %s "
                              "(--max-layer-size)",
                              path, archive_entry_pathname(e) ? archive_entry_pathname(e) : "",
                              (long long)archive_entry_size(e), l);
}

/* One pass over the headers: which kind of archive is this? */
static int scan_kind(int fd, const char *path, const layer_limits_t *lim, source_kind_t *ret,
                     husk_error_t *err)
{
        __attribute__((cleanup(archive_freep))) struct archive *a = archive_reader(fd);
        struct archive_entry *e;
        bool oci = false, docker = false;
        if (!a)
                return husk_error_set(err, EINVAL, "%s: cannot open as an archive", path);
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                _cleanup_free_ char *c = NULL;
                const char *why;
                if (archive_entry_pathname(e) &&
                    image_path_clean(archive_entry_pathname(e), &c, &why) == 0) {
                        if (strcmp(c, "oci-layout") == 0 || strcmp(c, "index.json") == 0)
                                oci = true;
                        else if (strcmp(c, "manifest.json") == 0)
                                docker = true;
                }
                if (oci)
                        break; /* nothing later changes the answer; stage() reads the rest */
                if (check_entry_size(path, e, lim, err) < 0)
                        return -EFBIG;
                archive_read_data_skip(a);
        }
        if (r != ARCHIVE_EOF && !oci)
                return husk_error_set(err, EINVAL, "%s: not a readable tar archive: %s", path,
                                      archive_error_string(a));
        *ret = oci ? SOURCE_OCI : docker ? SOURCE_DOCKER : SOURCE_ROOTFS;
        return 0;
}

/* The next entry stage() numbers (a named regular file or symlink, not a hardlink), counting
 * every header in *count. 1: one, 0: the end, -1: a read error, -2: an entry to skip holds
 * more than max bytes (*e is that entry; check_entry_size says so). */
static int next_file(struct archive *a, struct archive_entry **e, uint64_t *count, uint64_t max)
{
        int r;
        while ((r = archive_read_next_header(a, e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                mode_t t = archive_entry_filetype(*e);
                (*count)++;
                if (archive_entry_pathname(*e) && (t == AE_IFREG || t == AE_IFLNK) &&
                    !archive_entry_hardlink(*e))
                        return 1;
                if (archive_entry_size_is_set(*e) && archive_entry_size(*e) > 0 &&
                    (uint64_t)archive_entry_size(*e) > max)
                        return -2;
                archive_read_data_skip(a);
        }
        return r == ARCHIVE_EOF ? 0 : -1;
}

/* Reads the current entry's data into memory, at most max bytes (-EFBIG beyond). */
static int slurp(struct archive *a, size_t max, char **ret, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap + 1);
        for (;;) {
                if (len == cap) {
                        cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        buf = xrealloc(buf, cap + 1);
                }
                la_ssize_t n = archive_read_data(a, buf + len, cap - len);
                if (n < 0)
                        return -EIO;
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* Copies the current entry into fd: at most max bytes (the descriptor's size or the layer
 * limit; the copy stops there, -EFBIG), checking free space as it goes. */
static int stage_copy(const image_source_t *src, struct archive *a, int fd, const char *entry,
                      uint64_t max, const char *limit, husk_error_t *err)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        uint64_t unchecked = 0;
        int r;
        _cleanup_free_ char *what = xasprintf("%s: stage '%s'", src->desc, entry);
        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
                if (off < 0 || (uint64_t)off > max || size > max - (uint64_t)off)
                        return husk_error_set(err, EFBIG, "%s: larger than %s", what, limit);
                if ((unchecked += size) >= (16u << 20)) {
                        unchecked = 0;
                        if ((r = layer_check_space(src->lim, size, what, err)) < 0)
                                return r;
                }
                const char *p = buf;
                while (size > 0) {
                        ssize_t n = pwrite(fd, p, size, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return util_syserr(err, errno, "%s", what);
                        p += n;
                        off += n;
                        size -= (size_t)n;
                }
        }
        if (r != ARCHIVE_EOF)
                return husk_error_set(err, EIO, "%s: %s", what, archive_error_string(a));
        return 0;
}

/* An uncompressed archive's file is read in place: where its data starts in the archive. False
 * for a compressed archive, or an entry without a plain size or with holes. */
static bool in_place(struct archive *a, struct archive_entry *e, int64_t archive_size,
                     int64_t *ret_off, int64_t *ret_len)
{
        if (archive_filter_count(a) != 1 || archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE ||
            !archive_entry_size_is_set(e) || archive_entry_sparse_count(e) != 0)
                return false;
        int64_t off = archive_filter_bytes(a, 0), len = archive_entry_size(e);
        /* A truncated archive: the copy reports it. */
        if (off < 0 || len < 0 || off > archive_size || len > archive_size - off)
                return false;
        *ret_off = off;
        *ret_len = len;
        return true;
}

/* Small files of a compressed archive (index, manifests, configs) stay in memory from the first
 * pass, so planning needs no second one; larger ones are read again when asked for. */
#define MEM_ONE (1u << 20)
#define MEM_TOTAL (16u << 20)
/* The names of an archive's files are kept in memory: a few KB of gzip can hold a million long
 * names. An image archive has a few files per layer and image. */
#define NAMES_TOTAL (64u << 20)

static void grow(image_source_t *src, size_t *cap, char ***targets)
{
        if (src->n_names + 1 < *cap)
                return;
        size_t old = *cap;
        *cap = *cap ? *cap * 2 : 64;
        src->names = xrealloc(src->names, *cap * sizeof(char *));
        src->alias = xrealloc(src->alias, *cap * sizeof(int));
        src->off = xrealloc(src->off, *cap * sizeof(int64_t));
        src->len = xrealloc(src->len, *cap * sizeof(int64_t));
        src->size = xrealloc(src->size, *cap * sizeof(int64_t));
        src->mem = xrealloc(src->mem, *cap * sizeof(char *));
        src->copied = xrealloc(src->copied, *cap * sizeof(bool));
        *targets = xrealloc(*targets, *cap * sizeof(char *));
        for (size_t i = old; i < *cap; i++) {
                src->mem[i] = NULL;
                src->copied[i] = false;
        }
}

/* Records every regular file of the archive in one pass: read in place when the archive is
 * uncompressed, else kept in memory when small; symlinks become aliases (docker save links
 * identical layer.tar files). Nothing is written: an archive may hold gigabytes the images do
 * not use (issue 12). Names are only kept, never used as paths on disk. */
static int stage(image_source_t *src, int fd, husk_error_t *err)
{
        __attribute__((cleanup(archive_freep))) struct archive *a = archive_reader(fd);
        struct archive_entry *e;
        _cleanup_strv_ char **targets = NULL;
        size_t cap = 0;
        uint64_t count = 0;
        size_t name_bytes = 0;
        struct stat ast;
        int r;
        if (!a)
                return husk_error_set(err, EINVAL, "%s: cannot open as an archive", src->desc);
        if (fstat(fd, &ast) < 0)
                return util_syserr(err, errno, "%s: stat", src->desc);
        if ((src->archive_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return util_syserr(err, errno, "%s: dup", src->desc);
        while ((r = next_file(a, &e, &count, src->lim->max_total)) > 0) {
                const char *name = archive_entry_pathname(e), *why = NULL;
                _cleanup_free_ char *c = NULL;
                if (count > src->lim->max_entries)
                        return husk_error_set(err, EFBIG,
                                              "%s: more than %llu entries in the archive "
                                              "(--max-entries)",
                                              src->desc, (unsigned long long)src->lim->max_entries);
                if (image_path_clean(name, &c, &why) < 0)
                        return husk_error_set(err, EINVAL, "%s: entry '%s': %s", src->desc, name,
                                              why);
                if ((r = check_entry_size(src->desc, e, src->lim, err)) < 0)
                        return r;
                name_bytes += strlen(c) + 1;
                if (name_bytes > NAMES_TOTAL)
                        return husk_error_set(err, EFBIG,
                                              "%s: the names of the archive's files take more "
                                              "than %u MiB (not an image archive)",
                                              src->desc, NAMES_TOTAL >> 20);
                grow(src, &cap, &targets);
                size_t i = src->n_names++;
                src->names[i] = TAKE_PTR(c);
                src->names[i + 1] = NULL;
                /* Every slot set ("" for a file): strv_free at cleanup stops at the first NULL. */
                targets[i] = xstrdup("");
                targets[i + 1] = NULL;
                src->alias[i] = (int)i;
                src->off[i] = src->len[i] = -1;
                src->size[i] = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
                if (archive_entry_filetype(e) == AE_IFLNK) {
                        src->alias[i] = -1;
                        const char *tg = archive_entry_symlink(e);
                        char *j = tg ? join_inside(name, tg) : NULL;
                        if (j) {
                                free(targets[i]);
                                targets[i] = j;
                        }
                        continue;
                }
                if (in_place(a, e, (int64_t)ast.st_size, &src->off[i], &src->len[i])) {
                        archive_read_data_skip(a); /* a seek: the data is read later, in place */
                        continue;
                }
                int64_t sz = src->size[i];
                if (sz >= 0 && sz <= (int64_t)MEM_ONE && src->mem_total + (size_t)sz <= MEM_TOTAL) {
                        size_t len = 0;
                        if ((r = slurp(a, (size_t)sz, &src->mem[i], &len)) < 0)
                                return husk_error_set(err, -r, "%s: entry '%s': %s", src->desc,
                                                      name, strerror(-r));
                        src->len[i] = (int64_t)len;
                        src->mem_total += len;
                        continue;
                }
                archive_read_data_skip(a);
        }
        if (r == -2)
                return check_entry_size(src->desc, e, src->lim, err);
        if (r < 0)
                return husk_error_set(err, EINVAL, "%s: %s", src->desc, archive_error_string(a));
        /* Resolve symlink aliases (a few levels; loops end as unresolved). */
        for (int round = 0; round < 8; round++)
                for (size_t i = 0; i < src->n_names; i++)
                        if (src->alias[i] < 0) {
                                int j = find_name(src, targets[i]);
                                if (j >= 0 && src->alias[j] >= 0)
                                        src->alias[i] = src->alias[j];
                        }
        return 0;
}

/* Reads file k of the archive again, into memory (at most max bytes). */
static int fetch(const image_source_t *src, size_t k, size_t max, char **ret, size_t *ret_len)
{
        __attribute__((cleanup(archive_freep))) struct archive *a =
                archive_reader(src->archive_fd);
        struct archive_entry *e;
        uint64_t count = 0;
        size_t i = 0;
        int r;
        if (!a)
                return -EIO;
        while ((r = next_file(a, &e, &count, src->lim->max_total)) > 0) {
                if (i++ == k)
                        return slurp(a, max, ret, ret_len);
                archive_read_data_skip(a);
        }
        return -EIO; /* the archive changed since the first pass */
}

int image_source_open(const char *path, int staging_fd, const layer_limits_t *lim,
                      image_source_t *src, husk_error_t *err)
{
        *src = (image_source_t){ .dirfd = -1, .file_fd = -1, .archive_fd = -1, .lim = lim };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        int r;
        if (fd < 0 || fstat(fd, &st) < 0)
                return util_syserr(err, errno, "open %s", path);
        src->desc = xstrdup(path);
        if (S_ISDIR(st.st_mode)) {
                if (faccessat(fd, "oci-layout", F_OK, 0) == 0 ||
                    faccessat(fd, "index.json", F_OK, 0) == 0)
                        src->kind = SOURCE_OCI;
                else if (faccessat(fd, "manifest.json", F_OK, 0) == 0)
                        src->kind = SOURCE_DOCKER;
                else {
                        r = husk_error_set(err, EINVAL,
                                           "%s: not an image folder (no oci-layout, index.json or "
                                           "manifest.json)",
                                           path);
                        image_source_close(src);
                        return r;
                }
                src->dirfd = TAKE_FD(fd);
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                image_source_close(src);
                return husk_error_set(err, EINVAL, "%s: not a file or folder", path);
        }
        if ((r = scan_kind(fd, path, lim, &src->kind, err)) < 0) {
                image_source_close(src);
                return r;
        }
        if (src->kind == SOURCE_ROOTFS) {
                if (lseek(fd, 0, SEEK_SET) < 0) {
                        r = util_syserr(err, errno, "%s: seek", path);
                        image_source_close(src);
                        return r;
                }
                src->file_fd = TAKE_FD(fd);
                return 0;
        }
        src->staged = true;
        src->dirfd = fcntl(staging_fd, F_DUPFD_CLOEXEC, 3);
        if (src->dirfd < 0 || (r = stage(src, fd, err)) < 0) {
                if (src->dirfd < 0)
                        r = util_syserr(err, errno, "dup");
                image_source_close(src);
                return r;
        }
        return 0;
}

void image_source_close(image_source_t *src)
{
        free(src->desc);
        if (src->dirfd >= 0)
                close(src->dirfd);
        if (src->file_fd >= 0)
                close(src->file_fd);
        if (src->archive_fd >= 0)
                close(src->archive_fd);
        for (size_t i = 0; src->mem && i < src->n_names; i++)
                free(src->mem[i]);
        strv_free(src->names);
        free(src->alias);
        free(src->off);
        free(src->len);
        free(src->size);
        free(src->mem);
        free(src->copied);
        *src = (image_source_t){ .dirfd = -1, .file_fd = -1, .archive_fd = -1 };
}

/* The file a name of a staged archive stands for (after symlinks), or a negative errno. */
static int staged_index(const image_source_t *src, const char *rel, husk_error_t *err)
{
        _cleanup_free_ char *c = NULL;
        const char *why = NULL;
        if (image_path_clean(rel, &c, &why) < 0)
                return husk_error_set(err, EINVAL, "%s: '%s': %s", src->desc, rel, why);
        int i = find_name(src, c);
        if (i < 0 || src->alias[i] < 0)
                return husk_error_set(err, ENOENT, "%s: '%s' is not in the archive", src->desc,
                                      rel);
        return src->alias[i];
}

int image_source_file_size(const image_source_t *src, const char *rel, int64_t *ret,
                           husk_error_t *err)
{
        if (src->staged) {
                int k = staged_index(src, rel, err);
                if (k < 0)
                        return k;
                *ret = src->off[k] >= 0 || src->mem[k] ? src->len[k] : src->size[k];
                return 0;
        }
        _cleanup_close_ int fd = -1;
        int64_t off, len;
        struct stat st;
        int r = image_source_open_file(src, rel, &fd, &off, &len, err);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return util_syserr(err, errno, "%s: stat '%s'", src->desc, rel);
        *ret = (int64_t)st.st_size;
        return 0;
}

/* Copies file k from memory into the staging folder. */
static int stage_mem(image_source_t *src, size_t k, const char *fname, husk_error_t *err)
{
        _cleanup_free_ char *what = xasprintf("%s: stage '%s'", src->desc, src->names[k]);
        int r = layer_check_space(src->lim, (uint64_t)src->len[k], what, err);
        if (r < 0)
                return r;
        r = write_file_atomic_at(src->dirfd, fname, src->mem[k], (size_t)src->len[k], 0600);
        return r < 0 ? util_syserr(err, -r, "%s", what) : 0;
}

/* The bound of file k's copy; fails before any byte is written when its header says more. */
static int stage_bound(const image_source_t *src, size_t k, int64_t want, uint64_t *ret_max,
                       char *limit, size_t limit_len, husk_error_t *err)
{
        char lim[32];
        image_format_size(src->lim->max_total, lim);
        uint64_t max = src->lim->max_total;
        snprintf(limit, limit_len, "the layer limit %s (--max-layer-size)", lim);
        if (want >= 0 && (uint64_t)want <= max) {
                max = (uint64_t)want;
                snprintf(limit, limit_len, "the size its manifest gives, %lld bytes",
                         (long long)want);
        }
        if (src->size[k] >= 0 && (uint64_t)src->size[k] > max)
                return husk_error_set(err, EFBIG, "%s: '%s' holds %lld bytes, more than %s",
                                      src->desc, src->names[k], (long long)src->size[k], limit);
        *ret_max = max;
        return 0;
}

int image_source_stage(image_source_t *src, char *const *paths, const int64_t *sizes, size_t n,
                       husk_error_t *err)
{
        if (!src->staged)
                return 0;
        _cleanup_free_ int64_t *wsize = xcalloc(src->n_names + 1, sizeof(int64_t));
        _cleanup_free_ bool *want = xcalloc(src->n_names + 1, sizeof(bool));
        uint64_t max;
        size_t wanted = 0;
        char limit[128], fname[32];
        int r;
        for (size_t i = 0; i < n; i++) {
                int k = staged_index(src, paths[i], err);
                if (k < 0)
                        return k;
                if (src->off[k] >= 0 || src->copied[k] || want[k])
                        continue;
                if ((r = stage_bound(src, (size_t)k, sizes[i], &max, limit, sizeof(limit),
                                     err)) < 0)
                        return r;
                snprintf(fname, sizeof(fname), "f%d", k);
                if (src->mem[k]) {
                        if ((r = stage_mem(src, (size_t)k, fname, err)) < 0)
                                return r;
                        src->copied[k] = true;
                        continue;
                }
                want[k] = true;
                wsize[k] = sizes[i];
                wanted++;
        }
        if (wanted == 0)
                return 0;
        /* One more pass over the archive copies every wanted file; nothing else is written. */
        __attribute__((cleanup(archive_freep))) struct archive *a =
                archive_reader(src->archive_fd);
        struct archive_entry *e;
        uint64_t count = 0;
        size_t k = 0;
        if (!a)
                return husk_error_set(err, EINVAL, "%s: cannot open as an archive", src->desc);
        while (wanted > 0 && (r = next_file(a, &e, &count, src->lim->max_total)) > 0) {
                size_t i = k++;
                if (i >= src->n_names || !want[i]) {
                        archive_read_data_skip(a);
                        continue;
                }
                if ((r = stage_bound(src, i, wsize[i], &max, limit, sizeof(limit), err)) < 0)
                        return r;
                _cleanup_free_ char *what = xasprintf("%s: stage '%s'", src->desc, src->names[i]);
                uint64_t need = src->size[i] > 0 ? (uint64_t)src->size[i] : 0;
                if ((r = layer_check_space(src->lim, need, what, err)) < 0)
                        return r;
                snprintf(fname, sizeof(fname), "f%zu", i);
                _cleanup_close_ int out = openat(src->dirfd, fname,
                                                 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (out < 0)
                        return util_syserr(err, errno, "%s", what);
                if ((r = stage_copy(src, a, out, src->names[i], max, limit, err)) < 0) {
                        (void)unlinkat(src->dirfd, fname, 0); /* the work folder goes anyway */
                        return r;
                }
                src->copied[i] = true;
                wanted--;
        }
        if (wanted > 0)
                return husk_error_set(err, EIO, "%s: the archive changed while it was read: %s",
                                      src->desc, r < 0 ? archive_error_string(a) : "files missing");
        return 0;
}

void image_source_release(const image_source_t *src, const char *rel)
{
        husk_error_t ignored = { 0 }; /* a name not in the archive has no copy */
        char fname[32];
        if (!src->staged)
                return;
        int k = staged_index(src, rel, &ignored);
        if (k < 0 || !src->copied[k])
                return;
        snprintf(fname, sizeof(fname), "f%d", k);
        (void)unlinkat(src->dirfd, fname, 0); /* the work folder is removed at the end anyway */
}

int image_source_open_file(const image_source_t *src, const char *rel, int *ret_fd,
                           int64_t *ret_off, int64_t *ret_len, husk_error_t *err)
{
        _cleanup_free_ char *c = NULL;
        const char *why = NULL;
        int fd;
        if (image_path_clean(rel, &c, &why) < 0)
                return husk_error_set(err, EINVAL, "%s: '%s': %s", src->desc, rel, why);
        if (src->staged) {
                int k = staged_index(src, rel, err);
                if (k < 0)
                        return k;
                if (src->off[k] >= 0) {
                        /* Read in place: each reader has its own fd, and pread keeps no offset. */
                        fd = fcntl(src->archive_fd, F_DUPFD_CLOEXEC, 3);
                        if (fd < 0)
                                return util_syserr(err, errno, "%s: dup", src->desc);
                        *ret_fd = fd;
                        *ret_off = src->off[k];
                        *ret_len = src->len[k];
                        return 0;
                }
                if (!src->copied[k])
                        return husk_error_set(err, EINVAL, "%s: '%s' was not staged", src->desc,
                                              rel);
                char fname[32];
                snprintf(fname, sizeof(fname), "f%d", k);
                fd = openat(src->dirfd, fname, O_RDONLY | O_CLOEXEC);
        } else {
                /* Stay inside the image folder: symlinks in it may not point elsewhere. */
                struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
                fd = (int)syscall(SYS_openat2, src->dirfd, c, &how, sizeof(how));
        }
        if (fd < 0)
                return util_syserr(err, errno, "%s: open '%s'", src->desc, rel);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return husk_error_set(err, EINVAL, "%s: '%s' is not a regular file", src->desc, rel);
        }
        *ret_fd = fd;
        *ret_off = 0;
        *ret_len = -1;
        return 0;
}

/* Reads len bytes at off (a file read in place) into a new NUL-terminated buffer. */
static int read_range(int fd, int64_t off, int64_t len, char **ret)
{
        if (len > (int64_t)JSON_MAX)
                return -EFBIG;
        _cleanup_free_ char *buf = xmalloc((size_t)len + 1);
        size_t got = 0;
        while ((int64_t)got < len) {
                ssize_t n = pread(fd, buf + got, (size_t)len - got, off + (int64_t)got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* the archive shrank since it was staged */
                got += (size_t)n;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

int image_source_read(const image_source_t *src, const char *rel, const char *hex, char **ret,
                      size_t *ret_len, husk_error_t *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int64_t off, rlen;
        int r, k = -1;
        if (src->staged && (k = staged_index(src, rel, err)) < 0)
                return k;
        if (k >= 0 && src->off[k] < 0 && !src->copied[k]) {
                /* A file of a compressed archive: in memory, or read once more. */
                if (src->mem[k]) {
                        len = (size_t)src->len[k];
                        buf = xmalloc(len + 1);
                        memcpy(buf, src->mem[k], len + 1);
                        r = 0;
                } else
                        r = fetch(src, (size_t)k, JSON_MAX, &buf, &len);
        } else if ((r = image_source_open_file(src, rel, &fd, &off, &rlen, err)) < 0)
                return r;
        else if (rlen >= 0) {
                r = read_range(fd, off, rlen, &buf);
                len = r == 0 ? (size_t)rlen : 0;
        } else {
                char self[64];
                snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
                r = read_file_at(AT_FDCWD, self, JSON_MAX, &buf, &len);
        }
        if (r < 0)
                return husk_error_set(err, -r, "%s: read '%s': %s", src->desc, rel,
                                      r == -EFBIG ? "larger than 8 MiB" : strerror(-r));
        if (hex) {
                char got[DIGEST_HEX_LEN + 1];
                digest_buffer(buf, len, got);
                if (strcmp(got, hex) != 0)
                        return husk_error_set(err, EINVAL,
                                              "%s: '%s': digest mismatch (expected sha256:%s, got "
                                              "sha256:%s)",
                                              src->desc, rel, hex, got);
        }
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}
