/* SPDX-License-Identifier: Apache-2.0 */
/* The store: folders, locks and image records (see store.h for the layout). */
#include "store/store.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

const char *husk_image_store_path(const husk_image_opts_t *o)
{
        if (o && o->store && *o->store)
                return o->store;
        const char *e = getenv("HUSK_STORE");
        if (e && *e)
                return e;
        /* A user's images live in their own store (podman: ~/.local/share/containers). */
        static char *user_store;
        if (util_rootless() && !user_store)
                user_store = util_user_data_dir();
        return user_store ? user_store : HUSK_STORE_DEFAULT;
}

static int lock_file(int dirfd, const char *name, int op)
{
        int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, op) < 0) {
                if (errno == EINTR)
                        continue;
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

int store_open(const husk_image_opts_t *o, bool exclusive, store_t *s, husk_error_t *err)
{
        const char *path = husk_image_store_path(o);
        static const char *const subdirs[] = { "layers", "locks", "configs", "images", "tmp" };
        *s = (store_t){ .fd = -1, .gc_lock = -1 };
        int r = mkdir_p(path, 0700);
        if (r < 0)
                return util_syserr(err, -r, "create store %s", path);
        char abs[PATH_MAX];
        if (!realpath(path, abs))
                return util_syserr(err, errno, "store %s", path);
        _cleanup_close_ int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open store %s", abs);
        for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++)
                if (mkdirat(fd, subdirs[i], 0700) < 0 && errno != EEXIST)
                        return util_syserr(err, errno, "create %s/%s", abs, subdirs[i]);
        int l = lock_file(fd, ".gc.lock", exclusive ? LOCK_EX : LOCK_SH);
        if (l < 0)
                return util_syserr(err, -l, "lock store %s", abs);
        s->path = xstrdup(abs);
        s->fd = TAKE_FD(fd);
        s->gc_lock = l;
        return 0;
}

void store_close(store_t *s)
{
        if (s->gc_lock >= 0)
                close(s->gc_lock);
        if (s->fd >= 0)
                close(s->fd);
        free(s->path);
        *s = (store_t){ .fd = -1, .gc_lock = -1 };
}

int store_lock_records(store_t *s, husk_error_t *err)
{
        int l = lock_file(s->fd, ".records.lock", LOCK_EX);
        if (l < 0)
                return util_syserr(err, -l, "lock %s/.records.lock", s->path);
        return l;
}

int store_lock_tmp(store_t *s)
{
        return lock_file(s->fd, ".tmp.lock", LOCK_EX);
}

void store_clean_tmp(store_t *s)
{
        /* Serialised with store_lock_tmp holders: a work folder is locked before anyone scans. */
        _cleanup_close_ int lk = store_lock_tmp(s);
        _cleanup_close_ int tfd = openat(s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
                return;
        int dfd = fcntl(tfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_close_ int fd =
                        openat(tfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                /* A running load holds its folder's lock; only unlocked folders are leftovers. */
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
                        (void)rm_rf_at(tfd, de->d_name); /* best effort: retried next time */
        }
}

/* ---- records ---- */

void image_record_done(image_record_t *r)
{
        strv_free(r->names);
        strv_free(r->layers);
        free(r->loaded);
        *r = (image_record_t){ 0 };
}

void image_records_free(image_record_t *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                image_record_done(&v[i]);
        free(v);
}

static char **strv_from(yajl_val a, bool strip_sha)
{
        size_t n = a && YAJL_IS_ARRAY(a) ? a->u.array.len : 0;
        char **v = xcalloc(n + 1, sizeof(char *));
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                const char *s = YAJL_GET_STRING(a->u.array.values[i]);
                if (!s)
                        continue;
                if (strip_sha && strncmp(s, "sha256:", 7) == 0)
                        s += 7;
                v[k++] = xstrdup(s);
        }
        return v;
}

static int record_parse(const char *text, const char *hex, image_record_t *r)
{
        yajl_val v = yajl_tree_parse(text, NULL, 0);
        if (!v || !YAJL_IS_OBJECT(v)) {
                if (v)
                        yajl_tree_free(v);
                return -EINVAL;
        }
        const char *pn[] = { "names", NULL }, *pl[] = { "layers", NULL }, *ps[] = { "size", NULL },
                   *pt[] = { "loaded", NULL };
        *r = (image_record_t){ 0 };
        memcpy(r->hex, hex, DIGEST_HEX_LEN + 1);
        r->names = strv_from(yajl_tree_get(v, pn, yajl_t_array), false);
        r->layers = strv_from(yajl_tree_get(v, pl, yajl_t_array), true);
        yajl_val sz = yajl_tree_get(v, ps, yajl_t_number);
        r->size = sz && YAJL_IS_INTEGER(sz) ? (uint64_t)YAJL_GET_INTEGER(sz) : 0;
        yajl_val lt = yajl_tree_get(v, pt, yajl_t_string);
        r->loaded = xstrdup(lt ? YAJL_GET_STRING(lt) : "");
        yajl_tree_free(v);
        return 0;
}

static int cmp_records(const void *a, const void *b)
{
        const image_record_t *x = a, *y = b;
        int c = strcmp(x->loaded, y->loaded);
        return c ? c : strcmp(x->hex, y->hex);
}

int store_records(store_t *s, image_record_t **ret, size_t *ret_n, husk_error_t *err)
{
        int dfd = openat(s->fd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return util_syserr(err, errno, "open %s/images", s->path);
        }
        image_record_t *v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l != DIGEST_HEX_LEN + 5 || strcmp(de->d_name + DIGEST_HEX_LEN, ".json") != 0)
                        continue;
                char hex[DIGEST_HEX_LEN + 1];
                memcpy(hex, de->d_name, DIGEST_HEX_LEN);
                hex[DIGEST_HEX_LEN] = '\0';
                _cleanup_free_ char *text = NULL;
                if (!digest_hex_valid(hex) ||
                    read_file_at(dirfd(d), de->d_name, 1 << 20, &text, NULL) < 0)
                        continue;
                image_record_t r;
                if (record_parse(text, hex, &r) < 0)
                        continue; /* unreadable record: not an image (never written half) */
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = r;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_records);
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool is_hex_prefix(const char *s)
{
        size_t i;
        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i >= 4 && i <= DIGEST_HEX_LEN;
}

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

char **store_name_candidates(const char *ref)
{
        /* "busybox" also finds "busybox:latest"; a short name also finds what podman and skopeo
         * write for it: docker.io/library/NAME (docker-archive RepoTags) and localhost/NAME. */
        const char *slash = strrchr(ref, '/');
        bool has_tag = strchr(slash ? slash : ref, ':') != NULL || strchr(ref, '@') != NULL;
        const char *first_end = strchr(ref, '/');
        size_t fl = first_end ? (size_t)(first_end - ref) : 0;
        bool has_domain = first_end && (memchr(ref, '.', fl) || memchr(ref, ':', fl) ||
                                        (fl == 9 && strncmp(ref, "localhost", 9) == 0));
        char **v = NULL;
        size_t n = 0;
        const char *prefixes[] = { "", NULL, NULL };
        if (!has_domain) {
                prefixes[1] = first_end ? "docker.io/" : "docker.io/library/";
                prefixes[2] = "localhost/";
        }
        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
                if (!prefixes[i])
                        continue;
                strv_push(&v, &n, xasprintf("%s%s", prefixes[i], ref));
                if (!has_tag)
                        strv_push(&v, &n, xasprintf("%s%s:latest", prefixes[i], ref));
        }
        return v;
}

/* Levenshtein distance of a and b, capped: anything above cap is cap + 1. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 128 || lb > 128 || (la > lb ? la - lb : lb - la) > cap)
                return cap + 1;
        size_t row[129];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb] > cap ? cap + 1 : row[lb];
}

/* The shortest form of a stored name that still finds it (store_name_candidates in reverse):
 * "docker.io/library/busybox:latest" -> "busybox". */
static char *short_name(const char *name)
{
        static const char *const pre[] = { "docker.io/library/", "localhost/", "docker.io/" };
        for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
                if (strncmp(name, pre[i], strlen(pre[i])) == 0) {
                        name += strlen(pre[i]);
                        break;
                }
        size_t l = strlen(name);
        if (l > 7 && strcmp(name + l - 7, ":latest") == 0)
                l -= 7;
        return xstrndup(name, l);
}

char *store_nearest_name(const image_record_t *v, size_t n, const char *ref)
{
        /* Close enough to be a typo: 2 edits, 3 for names of 9 characters or more. */
        size_t cap = strlen(ref) >= 9 ? 3 : 2, best = cap + 1;
        char *pick = NULL;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; v[i].names && v[i].names[k]; k++) {
                        char *s = short_name(v[i].names[k]);
                        size_t d = edit_distance(ref, s, cap), d2 = edit_distance(ref, v[i].names[k], cap);
                        if (d2 < d) {
                                free(s);
                                s = xstrdup(v[i].names[k]);
                                d = d2;
                        }
                        if (d < best) {
                                free(pick);
                                pick = s;
                                best = d;
                        } else {
                                free(s);
                        }
                }
        return pick;
}

int store_find(image_record_t *v, size_t n, const char *ref, size_t *ret_idx, bool *ret_by_name,
               husk_error_t *err)
{
        /* Names first, in the order of store_name_candidates. */
        _cleanup_strv_ char **cands = store_name_candidates(ref);
        for (size_t c = 0; cands[c]; c++) {
                for (size_t i = 0; i < n; i++)
                        for (size_t k = 0; v[i].names && v[i].names[k]; k++)
                                if (strcmp(v[i].names[k], cands[c]) == 0) {
                                        *ret_idx = i;
                                        *ret_by_name = true;
                                        return 0;
                                }
        }
        const char *h = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
        if (is_hex_prefix(h)) {
                size_t found = n, count = 0;
                for (size_t i = 0; i < n; i++)
                        if (strncmp(v[i].hex, h, strlen(h)) == 0) {
                                found = i;
                                count++;
                        }
                if (count > 1)
                        return husk_error_set(err, EINVAL, "image id prefix '%s' is ambiguous", ref);
                if (count == 1) {
                        *ret_idx = found;
                        *ret_by_name = false;
                        return 0;
                }
        }
        _cleanup_free_ char *near = store_nearest_name(v, n, ref);
        if (near)
                return husk_error_set(err, ENOENT, "no image '%s' in the store: did you mean '%s'?", ref,
                                      near);
        return husk_error_set(err, ENOENT, "no image '%s' in the store (husk image ls lists them)", ref);
}

static void gen_str(yajl_gen g, const char *s)
{
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

int store_record_write(store_t *s, const image_record_t *r, husk_error_t *err)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_map_open(g);
        gen_str(g, "id");
        _cleanup_free_ char *id = xasprintf("sha256:%s", r->hex);
        gen_str(g, id);
        gen_str(g, "names");
        yajl_gen_array_open(g);
        for (size_t i = 0; r->names && r->names[i]; i++)
                gen_str(g, r->names[i]);
        yajl_gen_array_close(g);
        gen_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; r->layers && r->layers[i]; i++) {
                _cleanup_free_ char *l = xasprintf("sha256:%s", r->layers[i]);
                gen_str(g, l);
        }
        yajl_gen_array_close(g);
        gen_str(g, "size");
        yajl_gen_integer(g, (long long)r->size);
        gen_str(g, "loaded");
        gen_str(g, r->loaded ? r->loaded : "");
        yajl_gen_map_close(g);
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        _cleanup_free_ char *name = xasprintf("%s.json", r->hex);
        _cleanup_close_ int dfd = openat(s->fd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = dfd < 0 ? -errno : write_file_atomic_at(dfd, name, (const char *)buf, len, 0600);
        yajl_gen_free(g);
        if (rc < 0)
                return util_syserr(err, -rc, "write %s/images/%s", s->path, name);
        return 0;
}
