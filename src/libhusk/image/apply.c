/* SPDX-License-Identifier: Apache-2.0 */
/* Layer apply: one pass over a (compressed) layer blob that hashes the blob, decompresses it, hashes
 * the uncompressed tar (the diff_id) and extracts the entries in overlay form.
 *
 * Two libarchive readers form the pipeline: the outer one (format "raw") only decompresses and its
 * read callback hashes the blob bytes; the inner one (format tar) reads the outer one's output and
 * its read callback hashes the uncompressed bytes. Entries are created through directory fds walked
 * from the layer root with O_NOFOLLOW on every component, never by a path string: libarchive's
 * SECURE_* flags alone are not enough (they do not know overlay whiteouts and work on paths). */
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define BUF_SIZE (256 * 1024)
/* Free space is checked again after this many bytes written, and this many entries. */
#define SPACE_CHECK_BYTES (16u << 20)
#define SPACE_CHECK_ENTRIES 4096

typedef struct pipe_state {
        int fd;
        int64_t off;  /* next pread offset (ranged) */
        int64_t left; /* bytes of the blob not read yet; < 0: read() to the end of the file */
        digest_ctx_t blob;
        digest_ctx_t diff;
        struct archive *outer;
        char *inbuf;
        char *midbuf;
        bool outer_eof;
        bool same; /* uncompressed blob: blob digest == diff_id, hash once */
        char outer_err[512];
} pipe_state_t;

/* The next bytes of the blob: the rest of the file, or the rest of its range in an archive. */
static ssize_t blob_read(pipe_state_t *st, void *buf, size_t size)
{
        if (st->left == 0)
                return 0;
        if (st->left > 0 && (uint64_t)st->left < size)
                size = (size_t)st->left;
        ssize_t n;
        do
                n = st->left < 0 ? read(st->fd, buf, size) : pread(st->fd, buf, size, st->off);
        while (n < 0 && errno == EINTR);
        if (n == 0 && st->left > 0) {
                errno = EIO; /* the archive is shorter than when it was staged */
                return -1;
        }
        if (n > 0) {
                st->off += n;
                if (st->left > 0)
                        st->left -= n;
        }
        return n;
}

static la_ssize_t outer_read(struct archive *a, void *data, const void **buf)
{
        pipe_state_t *st = data;
        ssize_t n = blob_read(st, st->inbuf, BUF_SIZE);
        if (n < 0) {
                archive_set_error(a, errno, "read: %s", strerror(errno));
                return -1;
        }
        if (!st->same)
                digest_update(&st->blob, st->inbuf, (size_t)n);
        *buf = st->inbuf;
        return n;
}

static la_ssize_t inner_read(struct archive *a, void *data, const void **buf)
{
        pipe_state_t *st = data;
        if (st->outer_eof)
                return 0;
        la_ssize_t n = archive_read_data(st->outer, st->midbuf, BUF_SIZE);
        if (n < 0) {
                snprintf(st->outer_err, sizeof(st->outer_err), "decompress: %s",
                         archive_error_string(st->outer) ? archive_error_string(st->outer) : "error");
                archive_set_error(a, EIO, "%s", st->outer_err);
                return -1;
        }
        if (n == 0)
                st->outer_eof = true;
        digest_update(&st->diff, st->midbuf, (size_t)n);
        *buf = st->midbuf;
        return n;
}

static int set_filters(struct archive *a, compression_t comp)
{
        switch (comp) {
        case COMP_NONE:
                return archive_read_support_filter_none(a);
        case COMP_GZIP:
                return archive_read_support_filter_gzip(a);
        case COMP_ZSTD:
                return archive_read_support_filter_zstd(a);
        case COMP_AUTO:
                archive_read_support_filter_gzip(a);
                archive_read_support_filter_zstd(a);
                archive_read_support_filter_xz(a);
                archive_read_support_filter_bzip2(a);
                return ARCHIVE_OK;
        }
        return ARCHIVE_FATAL;
}

/* ---- extraction of one entry ---- */

typedef struct extract {
        int root_fd;
        const char *what;
        const layer_limits_t *lim;
        layer_result_t *res;
        char *cache_path; /* the parent dir whose fd is cached */
        int cache_fd;
        char *buf;
        uint64_t total;
        uint64_t unchecked; /* bytes written since the last free-space check */
        const bool *stream_eof; /* the uncompressed stream has ended */
        bool ended;             /* the stream ended right after the last entry's data */
} extract_t;

static void cache_drop(extract_t *x)
{
        free(x->cache_path);
        x->cache_path = NULL;
        if (x->cache_fd >= 0)
                close(x->cache_fd);
        x->cache_fd = -1;
}

static int entry_err(extract_t *x, husk_error_t *err, const char *entry, int e, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));
static int entry_err(extract_t *x, husk_error_t *err, const char *entry, int e, const char *fmt, ...)
{
        char why[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return husk_error_set(err, e ? e : EINVAL, "%s: entry '%s': %s", x->what, entry, why);
}

/* Opens the directory parent (a cleaned relative path) below the layer root, one component at a
 * time with O_NOFOLLOW, creating missing ones when create is set. A symlink as a parent component
 * is refused: an entry written through a symlink could land outside the layer. Returns a new fd
 * (the caller closes it) or a negative errno with *ret_why. */
static int open_parent(extract_t *x, const char *parent, bool create, const char **ret_why)
{
        if (x->cache_path && strcmp(x->cache_path, parent) == 0)
                return fcntl(x->cache_fd, F_DUPFD_CLOEXEC, 3);
        _cleanup_close_ int cur = fcntl(x->root_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        _cleanup_free_ char *copy = xstrdup(parent);
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT && create) {
                        if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        fd = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0) {
                        int e = errno;
                        if (e == ELOOP || e == ENOTDIR)
                                *ret_why = "a parent directory is a symlink or not a directory";
                        else if (e == ENOENT)
                                *ret_why = "a parent directory does not exist in the layer";
                        return -e;
                }
                close(cur);
                cur = fd;
        }
        cache_drop(x);
        x->cache_path = xstrdup(parent);
        x->cache_fd = fcntl(cur, F_DUPFD_CLOEXEC, 3);
        return TAKE_FD(cur);
}

/* Removes whatever this layer already has at parent/leaf (a later entry replaces an earlier one). */
static int remove_existing(extract_t *x, int parent, const char *leaf, bool keep_dir)
{
        struct stat st;
        if (fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                if (keep_dir)
                        return 0;
                cache_drop(x); /* the cached fd may point into the removed tree */
        }
        return rm_rf_at(parent, leaf);
}

static bool xattr_allowed(const char *name)
{
        /* trusted.overlay.* from an image would steer overlayfs (redirect, origin, opaque): only
         * husk sets those; so would user.overlay.* under a rootless overlay ("userxattr"). Other
         * trusted.* and security.* labels are host policy, not image data. */
        if (strncmp(name, "user.overlay.", 13) == 0)
                return false;
        if (strncmp(name, "user.", 5) == 0)
                return true;
        return strcmp(name, "security.capability") == 0;
}

static void apply_xattrs(int fd, struct archive_entry *e)
{
        const char *name;
        const void *val;
        size_t size;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
                if (!name || !xattr_allowed(name))
                        continue;
                /* Best effort: a filesystem without user xattrs still gets the files. */
                (void)fsetxattr(fd, name, val, size, 0);
        }
}

/* The entry's owner. Rootless, husk unpacks in a user namespace that maps the user to 0 and its
 * subordinate range (/etc/subuid) to 1..N, so the files belong to ids of that range on the host;
 * an id outside the range (or every id but 0 without one) is not mapped (EINVAL) and the file
 * stays the user's: squashed, as podman's ignore_chown_errors does. */
static int own_entry(int dirfd, const char *name, struct archive_entry *e, int flags)
{
        if (fchownat(dirfd, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                     flags) == 0)
                return 0;
        if (errno == EINVAL && util_rootless())
                return 0;
        return -errno;
}

static int apply_meta(int fd, struct archive_entry *e, bool times)
{
        int r = own_entry(fd, "", e, AT_EMPTY_PATH);
        if (r < 0)
                return r;
        apply_xattrs(fd, e);
        /* chmod after chown: chown clears setuid/setgid, and those bits are part of the image. */
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return -errno;
        if (times) {
                struct timespec ts[2] = {
                        { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
                        { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
                };
                if (futimens(fd, ts) < 0)
                        return -errno;
        }
        return 0;
}

bool layer_canceled(const layer_limits_t *lim)
{
        return lim && lim->cancel && __atomic_load_n(lim->cancel, __ATOMIC_ACQUIRE);
}

void image_format_size(uint64_t bytes, char buf[32])
{
        static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double)bytes;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, 32, "%llu bytes", (unsigned long long)bytes);
        else
                snprintf(buf, 32, "%.1f %s", v, units[u]);
}

int layer_check_space(const layer_limits_t *lim, uint64_t need, const char *what,
                      husk_error_t *err)
{
        struct statvfs sv;
        if (!lim || lim->space_fd < 0)
                return 0;
        if (fstatvfs(lim->space_fd, &sv) < 0)
                return husk_error_set(err, errno, "%s: statvfs of the store: %s", what,
                                      strerror(errno));
        uint64_t avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
        if (avail < need || avail - need < lim->min_free) {
                char a[32], n[32], m[32];
                image_format_size(avail, a);
                image_format_size(need, n);
                image_format_size(lim->min_free, m);
                return husk_error_set(err, ENOSPC,
                                      "%s: the store's filesystem has %s free; %s more would leave "
                                      "less than the reserve of %s (--min-free-space)",
                                      what, a, n, m);
        }
        /* A layer of many empty files costs inodes, not bytes. Filesystems without an inode
         * count (btrfs) report 0 files. */
        if (sv.f_files > 0 && sv.f_favail < sv.f_files / 100)
                return husk_error_set(err, ENOSPC,
                                      "%s: the store's filesystem has %llu of %llu inodes free, "
                                      "less than the reserve of 1%%",
                                      what, (unsigned long long)sv.f_favail,
                                      (unsigned long long)sv.f_files);
        return 0;
}

static int write_data(extract_t *x, struct archive *a, struct archive_entry *e, int fd,
                      const char *entry, husk_error_t *err)
{
        const void *buf;
        size_t size;
        la_int64_t off;
        uint64_t written = 0;
        for (;;) {
                int r = archive_read_data_block(a, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN && *x->stream_eof &&
                    archive_entry_size_is_set(e) && written == (uint64_t)archive_entry_size(e)) {
                        /* Every byte of the entry is there, only the padding to 512 and the
                         * end-of-archive blocks are missing: umoci 0.4 (insert) writes layers
                         * like this, and Go's tar reader (umoci, podman) accepts them. The entry
                         * is complete; the stream ends here (the diff_id covers what was read). */
                        x->ended = true;
                        break;
                }
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return entry_err(x, err, entry, EIO, "read: %s", archive_error_string(a));
                if (layer_canceled(x->lim)) /* a big entry: stop within a block */
                        return husk_error_set(err, ECANCELED, "%s: canceled", x->what);
                written += size;
                x->total += size;
                if (written > x->lim->max_entry)
                        return entry_err(x, err, entry, EFBIG,
                                         "larger than the entry limit %llu (--max-entry-size)",
                                         (unsigned long long)x->lim->max_entry);
                if (x->total > x->lim->max_total)
                        return entry_err(x, err, entry, EFBIG,
                                         "layer larger than the limit %llu (--max-layer-size)",
                                         (unsigned long long)x->lim->max_total);
                /* Check while writing, not only before: a few KB of gzip can hold gigabytes. */
                x->unchecked += size;
                if (x->unchecked >= SPACE_CHECK_BYTES) {
                        x->unchecked = 0;
                        int r2 = layer_check_space(x->lim, size, x->what, err);
                        if (r2 < 0)
                                return r2;
                }
                const char *p = buf;
                while (size > 0) {
                        ssize_t n = pwrite(fd, p, size, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return entry_err(x, err, entry, errno, "write: %s", strerror(errno));
                        p += n;
                        off += n;
                        size -= (size_t)n;
                }
        }
        x->res->bytes += written;
        return 0;
}

static int do_hardlink(extract_t *x, int parent, const char *leaf, const char *target,
                       const char *entry, husk_error_t *err)
{
        entry_plan_t tp = { 0 };
        if (image_plan_entry(target, S_IFREG, &tp) != ACT_FILE) {
                const char *why = tp.reason ? tp.reason : "not a plain path";
                entry_plan_done(&tp);
                return entry_err(x, err, entry, EINVAL, "hardlink target '%s': %s", target, why);
        }
        const char *why = "cannot open the target's directory";
        /* The target must already be in this layer: linkat never follows the final symlink and
         * the parents are walked with O_NOFOLLOW, so the link cannot reach outside the layer. */
        int tfd = open_parent(x, tp.parent, false, &why);
        if (tfd < 0) {
                int r = entry_err(x, err, entry, -tfd, "hardlink target '%s': %s", target, why);
                entry_plan_done(&tp);
                return r;
        }
        struct stat st;
        int r = 0;
        if (fstatat(tfd, tp.leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = entry_err(x, err, entry, errno, "hardlink target '%s' is not in the layer",
                              target);
        else if (S_ISDIR(st.st_mode))
                r = entry_err(x, err, entry, EPERM, "hardlink target '%s' is a directory", target);
        if (r == 0) {
                /* parent is our own fd: the cache change in open_parent above does not touch it. */
                r = remove_existing(x, parent, leaf, false);
                if (r == 0 && linkat(tfd, tp.leaf, parent, leaf, 0) < 0)
                        r = -errno;
                if (r < 0)
                        r = entry_err(x, err, entry, -r, "hardlink to '%s': %s", target,
                                      strerror(-r));
        }
        close(tfd);
        entry_plan_done(&tp);
        return r;
}

static int extract_entry(extract_t *x, struct archive *a, struct archive_entry *e, husk_error_t *err)
{
        const char *entry = archive_entry_pathname(e);
        const char *hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (!entry)
                entry = "(no name)";
        if (hardlink)
                type = S_IFREG;
        _cleanup_(entry_plan_done) entry_plan_t p = { 0 };
        entry_action_t act = image_plan_entry(entry, type, &p);
        if (act == ACT_REJECT)
                return entry_err(x, err, entry, EINVAL, "%s", p.reason);
        if (act == ACT_SKIP)
                return 0;
        if (act == ACT_SKIP_DEVICE) {
                /* Device nodes are never created from an image (the runtime builds /dev). */
                x->res->skipped_devices++;
                return 0;
        }
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
            (uint64_t)archive_entry_size(e) > x->lim->max_entry)
                return entry_err(x, err, entry, EFBIG,
                                 "size %lld exceeds the entry limit %llu (--max-entry-size)",
                                 (long long)archive_entry_size(e),
                                 (unsigned long long)x->lim->max_entry);
        const char *why = "cannot open the parent directory";
        _cleanup_close_ int parent = open_parent(x, p.parent, true, &why);
        if (parent < 0)
                return entry_err(x, err, entry, -parent, "%s", why);
        const char *leaf = p.leaf;
        int r = 0;
        switch (act) {
        case ACT_DIR: {
                struct stat st;
                if (fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
                        r = remove_existing(x, parent, leaf, false);
                if (r == 0 && mkdirat(parent, leaf, 0700) < 0 && errno != EEXIST)
                        r = -errno;
                if (r < 0)
                        return entry_err(x, err, entry, -r, "mkdir: %s", strerror(-r));
                _cleanup_close_ int fd =
                        openat(parent, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || (r = apply_meta(fd, e, false)) < 0)
                        return entry_err(x, err, entry, fd < 0 ? errno : -r, "set attributes: %s",
                                         strerror(fd < 0 ? errno : -r));
                return 0;
        }
        case ACT_FILE: {
                if (hardlink)
                        return do_hardlink(x, parent, leaf, hardlink, entry, err);
                if ((r = remove_existing(x, parent, leaf, false)) < 0)
                        return entry_err(x, err, entry, -r, "replace: %s", strerror(-r));
                _cleanup_close_ int fd = openat(parent, leaf,
                                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                                0600);
                if (fd < 0)
                        return entry_err(x, err, entry, errno, "create: %s", strerror(errno));
                if ((r = write_data(x, a, e, fd, entry, err)) < 0)
                        return r;
                if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
                        return entry_err(x, err, entry, errno, "truncate: %s", strerror(errno));
                if ((r = apply_meta(fd, e, true)) < 0)
                        return entry_err(x, err, entry, -r, "set attributes: %s", strerror(-r));
                return 0;
        }
        case ACT_SYMLINK: {
                const char *target = archive_entry_symlink(e);
                if (!target || !*target)
                        return entry_err(x, err, entry, EINVAL, "symlink without a target");
                /* The target is stored as text and never followed while unpacking. */
                if ((r = remove_existing(x, parent, leaf, false)) < 0 ||
                    (symlinkat(target, parent, leaf) < 0 && (r = -errno) < 0))
                        return entry_err(x, err, entry, -r, "symlink: %s", strerror(-r));
                if ((r = own_entry(parent, leaf, e, AT_SYMLINK_NOFOLLOW)) < 0)
                        return entry_err(x, err, entry, -r, "chown: %s", strerror(-r));
                struct timespec ts[2] = { { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
                                          { archive_entry_mtime(e), archive_entry_mtime_nsec(e) } };
                (void)utimensat(parent, leaf, ts, AT_SYMLINK_NOFOLLOW); /* times are cosmetic */
                return 0;
        }
        case ACT_FIFO:
                if ((r = remove_existing(x, parent, leaf, false)) < 0 ||
                    (mknodat(parent, leaf, S_IFIFO | 0600, 0) < 0 && (r = -errno) < 0))
                        return entry_err(x, err, entry, -r, "mkfifo: %s", strerror(-r));
                {
                        _cleanup_close_ int fd =
                                openat(parent, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0 || own_entry(parent, leaf, e, AT_SYMLINK_NOFOLLOW) < 0 ||
                            fchmodat(parent, leaf, archive_entry_perm(e) & 07777, 0) < 0)
                                return entry_err(x, err, entry, errno, "fifo attributes: %s",
                                                 strerror(errno));
                }
                return 0;
        case ACT_WHITEOUT:
                /* Overlay form of an OCI whiteout: a char 0:0 device named like the target (a
                 * user may make one too, Linux 5.8+: no other node needs rootless). */
                if ((r = remove_existing(x, parent, leaf, false)) < 0 ||
                    (mknodat(parent, leaf, S_IFCHR | 0000, makedev(0, 0)) < 0 && (r = -errno) < 0))
                        return entry_err(x, err, entry, -r, "whiteout: %s", strerror(-r));
                return 0;
        case ACT_OPAQUE:
                /* Rootless: trusted.* needs CAP_SYS_ADMIN in the host's user namespace; the
                 * user's overlay is mounted with "userxattr" and reads user.overlay.opaque. */
                if (fsetxattr(parent, image_opaque_xattr(), "y", 1, 0) < 0)
                        return entry_err(x, err, entry, errno, "opaque xattr: %s", strerror(errno));
                return 0;
        default:
                return entry_err(x, err, entry, EINVAL, "unexpected entry");
        }
}

/* Reads what the inner reader left (tar padding after the end marker) so the digests cover the
 * whole stream, then the rest of the blob. */
static int drain(pipe_state_t *st)
{
        while (!st->outer_eof) {
                la_ssize_t n = archive_read_data(st->outer, st->midbuf, BUF_SIZE);
                if (n < 0)
                        return -EIO;
                if (n == 0)
                        break;
                digest_update(&st->diff, st->midbuf, (size_t)n);
        }
        for (;;) {
                ssize_t n = blob_read(st, st->inbuf, BUF_SIZE);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 0;
                /* Bytes past the raw stream's end belong to the blob (and, uncompressed, to the
                 * diff too: the raw reader already returned everything it read). */
                digest_update(st->same ? &st->diff : &st->blob, st->inbuf, (size_t)n);
        }
}

static void archive_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
        *a = NULL;
}

int image_layer_apply(int blob_fd, int64_t blob_off, int64_t blob_len, compression_t comp,
                      int root_fd, const char *what, const layer_limits_t *lim,
                      layer_result_t *res, husk_error_t *err)
{
        pipe_state_t st = { .fd = blob_fd, .off = blob_off, .left = blob_len < 0 ? -1 : blob_len };
        extract_t x = { .root_fd = root_fd, .what = what, .lim = lim, .res = res, .cache_fd = -1,
                        .stream_eof = &st.outer_eof };
        _cleanup_free_ char *inbuf = xmalloc(BUF_SIZE);
        _cleanup_free_ char *midbuf = xmalloc(BUF_SIZE);
        __attribute__((cleanup(archive_freep))) struct archive *outer = archive_read_new();
        __attribute__((cleanup(archive_freep))) struct archive *inner = archive_read_new();
        struct archive_entry *e;
        int r;

        *res = (layer_result_t){ 0 };
        st.inbuf = inbuf;
        st.midbuf = midbuf;
        if (!outer || !inner || digest_init(&st.blob) < 0 || digest_init(&st.diff) < 0) {
                r = husk_error_set(err, ENOMEM, "%s: cannot set up the reader", what);
                goto out;
        }
        st.outer = outer;
        st.same = comp == COMP_NONE;
        archive_read_support_format_raw(outer);
        if (set_filters(outer, comp) != ARCHIVE_OK ||
            archive_read_open(outer, &st, NULL, outer_read, NULL) != ARCHIVE_OK) {
                r = husk_error_set(err, EINVAL, "%s: open (%s): %s", what, compression_name(comp),
                                   archive_error_string(outer));
                goto out;
        }
        r = archive_read_next_header(outer, &e);
        if (r == ARCHIVE_EOF)
                st.outer_eof = true;
        else if (r != ARCHIVE_OK) {
                r = husk_error_set(err, EINVAL, "%s: decompress (%s): %s", what,
                                   compression_name(comp), archive_error_string(outer));
                goto out;
        }
        archive_read_support_format_tar(inner);
        archive_read_support_format_empty(inner);
        if (archive_read_open(inner, &st, NULL, inner_read, NULL) != ARCHIVE_OK) {
                r = husk_error_set(err, EINVAL, "%s: not a tar archive: %s", what,
                                   archive_error_string(inner));
                goto out;
        }
        for (;;) {
                r = archive_read_next_header(inner, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        r = husk_error_set(err, EINVAL, "%s: after %llu entries: %s", what,
                                           (unsigned long long)res->entries,
                                           archive_error_string(inner));
                        goto out;
                }
                if (layer_canceled(lim)) {
                        r = husk_error_set(err, ECANCELED, "%s: canceled", what);
                        goto out;
                }
                if (++res->entries > lim->max_entries) {
                        r = husk_error_set(err, EFBIG,
                                           "%s: more than %llu entries in the layer (--max-entries)",
                                           what, (unsigned long long)lim->max_entries);
                        goto out;
                }
                if (res->entries % SPACE_CHECK_ENTRIES == 0 &&
                    (r = layer_check_space(lim, 0, what, err)) < 0)
                        goto out;
                r = extract_entry(&x, inner, e, err);
                if (r < 0)
                        goto out;
                if (x.ended)
                        break; /* the reader is in its fatal state: no more headers */
        }
        if ((r = drain(&st)) < 0) {
                r = husk_error_set(err, -r, "%s: reading past the tar end: %s", what,
                                   st.outer_err[0] ? st.outer_err : strerror(-r));
                goto out;
        }
        digest_final(&st.diff, res->diff_hex);
        if (st.same)
                memcpy(res->blob_hex, res->diff_hex, sizeof(res->blob_hex));
        else
                digest_final(&st.blob, res->blob_hex);
        r = 0;
out:
        cache_drop(&x);
        digest_done(&st.blob);
        digest_done(&st.diff);
        return r;
}
