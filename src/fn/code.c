/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: a function's code (issue 14). An Image function names a husk image (a name, an id or
 * an archive path that is loaded); a Zip function's package is unpacked into a task root of its
 * own, STORE/fn/code/NAME.RANDOM, which its workers get read-only at /var/task on top of the
 * server's --zip-base-image. The package is the attacker's: every entry is created through
 * fds relative to the task root (O_NOFOLLOW at each step, so no entry reaches through a
 * symlink or "..", and none outside), only regular files, folders and symlinks are made, modes
 * lose setuid/setgid/sticky, owners are not taken, and the unzipped size and the entry count
 * are bounded as Lambda bounds them. */
#include "fn.h"
#include "husk/image.h"
#include "util/util.h"

#include <archive.h>
#include <dirent.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define CODE_DIR "code"

int fn_image_ref(const char *store, const char *ref, char **ret_id, husk_error_t *err)
{
        husk_image_opts_t o = { .store = store };
        struct stat st;
        if (strchr(ref, '/') || (stat(ref, &st) == 0 && S_ISREG(st.st_mode))) {
                husk_image_loaded_t *v = NULL;
                size_t n = 0;
                int r = husk_image_load(&o, ref, &v, &n, err);
                if (r < 0)
                        return r;
                if (n != 1) {
                        husk_image_loaded_free(v, n);
                        return husk_error_set(err, EINVAL, "%s holds %zu images: load it with "
                                              "husk image load and name one", ref, n);
                }
                *ret_id = xstrdup(v[0].id);
                husk_image_loaded_free(v, n);
                return 0;
        }
        husk_image_resolved_t *res = NULL;
        int r = husk_image_resolve(&o, ref, &res, err);
        if (r < 0)
                return r;
        *ret_id = xstrdup(res->id);
        husk_image_resolved_free(res);
        return 0;
}

/* libarchive is loaded on first use (util/lazylib.c forwards what the image code calls); the
 * zip reader is looked up here, in the same library. Seekable: the modes (an executable
 * bootstrap) are in the central directory, which a streaming read of a zip does not see. */
static void *la_sym(const char *name)
{
        void *h = dlopen(HUSK_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
        return h ? dlsym(h, name) : NULL;
}

static int open_zip(struct archive *a, const void *zip, size_t len)
{
        static int (*support)(struct archive *);
        static int (*open_mem)(struct archive *, const void *, size_t);
        if (!support)
                support = (int (*)(struct archive *))la_sym("archive_read_support_format_zip_seekable");
        if (!open_mem)
                open_mem = (int (*)(struct archive *, const void *, size_t))la_sym(
                        "archive_read_open_memory");
        if (!support || !open_mem || support(a) != ARCHIVE_OK)
                return -ENOSYS;
        return open_mem(a, zip, len) == ARCHIVE_OK ? 0 : -EINVAL;
}

/* A relative path of plain components: no "", ".", ".." and not absolute. A trailing '/' (a
 * folder entry) is allowed. */
static bool path_ok(const char *p)
{
        if (!p || !*p || *p == '/' || strlen(p) > 4096)
                return false;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += n;
                if (*p == '/')
                        p++;
        }
        return true;
}

/* Opens (making them) the folders of path below root, without following a symlink; returns
 * the fd of the last one and points *leaf at the last component (its trailing '/' cut). */
static int walk(int root, char *path, char **leaf)
{
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
                path[--n] = '\0';
        int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
        char *p = path;
        for (;;) {
                char *slash = strchr(p, '/');
                if (!slash) {
                        *leaf = p;
                        return cur;
                }
                *slash = '\0';
                if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
                        int e = errno;
                        close(cur);
                        return -e;
                }
                int next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int e = errno;
                close(cur);
                *slash = '/';
                if (next < 0)
                        return -(e == ELOOP ? ENOTDIR : e);
                cur = next;
                p = slash + 1;
        }
}

static int write_entry(struct archive *a, struct archive_entry *e, int root, uint64_t *total,
                       husk_error_t *err)
{
        const char *name = archive_entry_pathname(e);
        if (!path_ok(name))
                return husk_error_set(err, EINVAL, "zip entry \"%s\": not a path inside the task "
                                      "root (absolute, empty, or with . or ..)",
                                      name ? name : "");
        mode_t type = archive_entry_filetype(e);
        if (archive_entry_hardlink(e))
                return husk_error_set(err, EINVAL, "zip entry \"%s\": hard links are not taken", name);
        if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
                return husk_error_set(err, EINVAL, "zip entry \"%s\": a device, fifo or socket: a "
                                      "package holds files, folders and symlinks only", name);
        _cleanup_free_ char *path = xstrdup(name);
        char *leaf = NULL;
        _cleanup_close_ int dir = walk(root, path, &leaf);
        if (dir < 0)
                return util_syserr(err, -dir, "zip entry \"%s\"%s", name,
                                   dir == -ENOTDIR ? ": a folder of its path is a file or a symlink"
                                                   : "");
        /* Permissions only: no setuid, setgid or sticky bit, and owned by the server's user. */
        mode_t perm = archive_entry_perm(e) & 0777;
        if (type == AE_IFDIR) {
                if (mkdirat(dir, leaf, perm ? perm | 0700 : 0755) < 0 && errno != EEXIST)
                        return util_syserr(err, errno, "zip entry \"%s\"", name);
                struct stat st;
                if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        return husk_error_set(err, EEXIST, "zip entry \"%s\": a file of that name "
                                              "came first", name);
                return 0;
        }
        if (type == AE_IFLNK) {
                const char *target = archive_entry_symlink(e);
                if (!target || !*target || strlen(target) > 4095)
                        return husk_error_set(err, EINVAL, "zip entry \"%s\": a bad symlink", name);
                /* Made, never followed here: it resolves inside the worker's own root. */
                if (symlinkat(target, dir, leaf) < 0)
                        return util_syserr(err, errno, "zip entry \"%s\"", name);
                return 0;
        }
        _cleanup_close_ int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                        perm ? perm | 0400 : 0644);
        if (fd < 0)
                return util_syserr(err, errno, "zip entry \"%s\"%s", name,
                                   errno == EEXIST ? " (twice in the package)" : "");
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return husk_error_set(err, EINVAL, "zip entry \"%s\": %s", name,
                                              archive_error_string(a));
                if (off < 0 || (uint64_t)off + len > FN_ZIP_UNZIPPED_MAX ||
                    (*total += len) > FN_ZIP_UNZIPPED_MAX)
                        return husk_error_set(err, EFBIG, "Unzipped size must be smaller than %u "
                                              "bytes", FN_ZIP_UNZIPPED_MAX);
                if (lseek(fd, off, SEEK_SET) < 0 || write_all(fd, buf, len) < 0)
                        return util_syserr(err, errno, "write zip entry \"%s\"", name);
        }
        /* The mode once more: a umask may have taken bits of it. */
        (void)fchmod(fd, perm ? perm | 0400 : 0644);
        return 0;
}

int fn_zip_unpack(const char *store, const char *name, const void *zip, size_t len,
                  bool need_bootstrap, char **ret_dir, husk_error_t *err)
{
        if (len > FN_ZIP_MAX)
                return husk_error_set(err, EFBIG, "Zipped size must be smaller than %u bytes",
                                      FN_ZIP_MAX);
        _cleanup_free_ char *parent = fn_path(store, CODE_DIR);
        int r = mkdir_p(parent, 0755);
        if (r < 0)
                return util_syserr(err, -r, "create %s", parent);
        _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return util_syserr(err, errno, "open %s", parent);
        char rnd[37];
        fn_uuid(rnd);
        _cleanup_free_ char *leaf = xasprintf("%s.%.8s", name, rnd);
        if (mkdirat(pfd, leaf, 0755) < 0)
                return util_syserr(err, errno, "create %s/%s", parent, leaf);
        int root = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct archive *a = archive_read_new();
        uint64_t total = 0, entries = 0;
        int o = root < 0 || !a ? 0 : open_zip(a, zip, len);
        if (root < 0)
                r = util_syserr(err, errno, "open %s/%s", parent, leaf);
        else if (!a || o == -ENOSYS)
                r = husk_error_set(err, ENOSYS, "libarchive (" HUSK_LIBARCHIVE_SONAME ") with zip "
                                   "support is needed for Zip packages");
        else if (o < 0)
                r = husk_error_set(err, EINVAL, "Could not unzip uploaded file: %s",
                                   archive_error_string(a));
        while (r == 0) {
                struct archive_entry *e;
                int s = archive_read_next_header(a, &e);
                if (s == ARCHIVE_EOF)
                        break;
                if (s < ARCHIVE_WARN) {
                        r = husk_error_set(err, EINVAL, "Could not unzip uploaded file: %s",
                                           archive_error_string(a));
                        break;
                }
                if (++entries > FN_ZIP_ENTRIES_MAX) {
                        r = husk_error_set(err, EFBIG, "the package has more than %u entries",
                                           FN_ZIP_ENTRIES_MAX);
                        break;
                }
                r = write_entry(a, e, root, &total, err);
        }
        if (r == 0 && entries == 0)
                r = husk_error_set(err, EINVAL, "Could not unzip uploaded file: the package is "
                                   "empty or not a zip file");
        if (r == 0 && need_bootstrap) {
                struct stat st;
                /* Not followed here: a symlink resolves in the worker. */
                if (fstatat(root, "bootstrap", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
                        r = husk_error_set(err, EINVAL, "the package has no file `bootstrap` at "
                                           "its top: a custom runtime (provided.*) runs "
                                           "/var/task/bootstrap");
                else if (S_ISREG(st.st_mode) && !(st.st_mode & 0111))
                        r = husk_error_set(err, EINVAL, "`bootstrap` in the package is not "
                                           "executable");
        }
        archive_read_free(a);
        if (root >= 0)
                close(root);
        if (r < 0) {
                (void)rm_rf_at(pfd, leaf);
                return r;
        }
        *ret_dir = xasprintf("%s/%s", parent, leaf);
        return 0;
}

void fn_code_remove(const char *store, const char *dir)
{
        if (!dir || !*dir)
                return;
        _cleanup_free_ char *parent = fn_path(store, CODE_DIR);
        size_t n = strlen(parent);
        /* Only a task root of ours: PARENT/LEAF with a plain leaf. */
        if (strncmp(dir, parent, n) != 0 || dir[n] != '/' || !dir[n + 1] || strchr(dir + n + 1, '/') ||
            strcmp(dir + n + 1, "..") == 0 || strcmp(dir + n + 1, ".") == 0)
                return;
        _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd >= 0)
                (void)rm_rf_at(pfd, dir + n + 1);
}

void fn_code_sweep(const char *store, fn_db *db)
{
        fn_def **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_list(db, &v, &n, &err) < 0)
                return; /* nothing is removed on doubt */
        _cleanup_free_ char *parent = fn_path(store, CODE_DIR);
        _cleanup_closedir_ DIR *d = opendir(parent);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *dir = xasprintf("%s/%s", parent, de->d_name);
                bool used = false;
                for (size_t i = 0; i < n && !used; i++)
                        used = v[i]->code_dir && strcmp(v[i]->code_dir, dir) == 0;
                if (!used)
                        (void)rm_rf_at(dirfd(d), de->d_name);
        }
        for (size_t i = 0; i < n; i++)
                fn_def_free(v[i]);
        free(v);
}
