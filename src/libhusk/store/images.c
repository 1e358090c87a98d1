/* SPDX-License-Identifier: Apache-2.0 */
/* Stored images: list, inspect, rm, prune, and resolve (for `husk run IMAGE`). */
#include "store/store.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static void gen_str(yajl_gen g, const char *s)
{
        yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_record(yajl_gen g, const image_record_t *r, bool open_only)
{
        _cleanup_free_ char *id = xasprintf("sha256:%s", r->hex);
        yajl_gen_map_open(g);
        gen_str(g, "id");
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
        if (!open_only)
                yajl_gen_map_close(g);
}

static char *gen_take(yajl_gen g)
{
        const unsigned char *buf;
        size_t len;
        yajl_gen_get_buf(g, &buf, &len);
        char *s = xstrndup((const char *)buf, len);
        yajl_gen_free(g);
        return s;
}

int husk_image_list_json(const husk_image_opts_t *o, char **ret_json, husk_error_t *err)
{
        store_t s;
        image_record_t *v = NULL;
        size_t n = 0;
        int r = store_open(o, false, &s, err);
        if (r < 0)
                return r;
        r = store_records(&s, &v, &n, err);
        store_close(&s);
        if (r < 0)
                return r;
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                gen_record(g, &v[i], false);
        yajl_gen_array_close(g);
        *ret_json = gen_take(g);
        image_records_free(v, n);
        return 0;
}

static char **layer_dirs(store_t *s, const image_record_t *r, husk_error_t *err)
{
        size_t n = strv_length(r->layers);
        char **v = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                v[i] = xasprintf("%s/layers/%s/diff", s->path, r->layers[i]);
                struct stat st;
                if (stat(v[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
                        util_syserr(err, errno ? errno : ENOTDIR,
                                    "image sha256:%s: layer sha256:%s missing from the store",
                                    r->hex, r->layers[i]);
                        strv_free(v);
                        return NULL;
                }
        }
        return v;
}

static int read_config(store_t *s, const char *hex, char **ret, husk_error_t *err)
{
        _cleanup_free_ char *p = xasprintf("configs/%s.json", hex);
        int r = read_file_at(s->fd, p, 8u << 20, ret, NULL);
        return r < 0 ? util_syserr(err, -r, "read %s/%s", s->path, p) : 0;
}

/* Removes the lower copies of a layer that the image repeats higher up (in place; v is lowest
 * first). overlayfs refuses a folder given twice (ELOOP), and the upper copy shadows the lower one
 * entirely: every path, whiteout and opaque dir of the lower copy is also in the upper one, above
 * anything in between. */
static void drop_shadowed_copies(char **v)
{
        size_t w = 0;
        for (size_t i = 0; v[i]; i++) {
                bool again = false;
                for (size_t k = i + 1; v[k] && !again; k++)
                        again = strcmp(v[i], v[k]) == 0;
                if (again)
                        free(v[i]);
                else
                        v[w++] = v[i];
        }
        v[w] = NULL;
}

/* Opens the store (shared) and finds ref. */
static int find(const husk_image_opts_t *o, const char *ref, store_t *s, image_record_t *ret,
                bool *ret_by_name, husk_error_t *err)
{
        image_record_t *v = NULL;
        size_t n = 0, idx = 0;
        bool by_name = false;
        int r = store_open(o, false, s, err);
        if (r < 0)
                return r;
        if ((r = store_records(s, &v, &n, err)) < 0 ||
            (r = store_find(v, n, ref, &idx, &by_name, err)) < 0) {
                image_records_free(v, n);
                store_close(s);
                return r;
        }
        *ret = v[idx];
        v[idx] = (image_record_t){ 0 };
        image_records_free(v, n);
        if (ret_by_name)
                *ret_by_name = by_name;
        return 0;
}

/* Writes a parsed JSON value into g (numbers as they were written). */
static void gen_value(yajl_gen g, yajl_val v, unsigned depth)
{
        if (!v || depth > 64) {
                yajl_gen_null(g);
        } else if (YAJL_IS_STRING(v)) {
                gen_str(g, v->u.string);
        } else if (YAJL_IS_NUMBER(v)) {
                yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
                yajl_gen_bool(g, YAJL_IS_TRUE(v));
        } else if (YAJL_IS_OBJECT(v)) {
                yajl_gen_map_open(g);
                for (size_t i = 0; i < v->u.object.len; i++) {
                        gen_str(g, v->u.object.keys[i]);
                        gen_value(g, v->u.object.values[i], depth + 1);
                }
                yajl_gen_map_close(g);
        } else if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len; i++)
                        gen_value(g, v->u.array.values[i], depth + 1);
                yajl_gen_array_close(g);
        } else {
                yajl_gen_null(g);
        }
}

int husk_image_inspect_json(const husk_image_opts_t *o, const char *ref, char **ret_json,
                            husk_error_t *err)
{
        store_t s;
        image_record_t rec;
        _cleanup_free_ char *cfg = NULL;
        int r = find(o, ref, &s, &rec, NULL, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **dirs = layer_dirs(&s, &rec, err);
        if (!dirs || (r = read_config(&s, rec.hex, &cfg, err)) < 0) {
                r = dirs ? r : -err->code;
                image_record_done(&rec);
                store_close(&s);
                return r;
        }
        /* One document, indented throughout (podman-style): the config blob is parsed again
         * (it was checked when it was loaded) and written into it. */
        yajl_val cv = yajl_tree_parse(cfg, NULL, 0);
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "    ");
        gen_record(g, &rec, true);
        gen_str(g, "layer_dirs");
        yajl_gen_array_open(g);
        for (size_t i = 0; dirs[i]; i++)
                gen_str(g, dirs[i]);
        yajl_gen_array_close(g);
        gen_str(g, "config");
        gen_value(g, cv, 0);
        yajl_gen_map_close(g);
        yajl_tree_free(cv);
        char *json = gen_take(g);
        size_t jl = strlen(json);
        if (jl && json[jl - 1] == '\n')
                json[jl - 1] = '\0'; /* the caller ends the line */
        *ret_json = json;
        image_record_done(&rec);
        store_close(&s);
        return 0;
}

int husk_image_resolve(const husk_image_opts_t *o, const char *ref, husk_image_resolved_t **ret,
                       husk_error_t *err)
{
        store_t s;
        image_record_t rec;
        _cleanup_free_ char *cfg = NULL;
        image_config_t c = { 0 };
        int r = find(o, ref, &s, &rec, NULL, err);
        if (r < 0)
                return r;
        char **dirs = layer_dirs(&s, &rec, err);
        _cleanup_free_ char *what = xasprintf("%s/configs/%s.json", s.path, rec.hex);
        if (dirs)
                drop_shadowed_copies(dirs);
        if (!dirs)
                r = -err->code;
        else if ((r = read_config(&s, rec.hex, &cfg, err)) == 0)
                r = image_config_parse(cfg, what, &c, err);
        if (r < 0) {
                strv_free(dirs);
                image_record_done(&rec);
                store_close(&s);
                return r;
        }
        husk_image_resolved_t *res = xcalloc(1, sizeof(*res));
        res->id = xasprintf("sha256:%s", rec.hex);
        res->layer_dirs = dirs;
        res->config = c.run;
        c.run = (husk_image_config_t){ 0 };
        image_config_done(&c);
        image_record_done(&rec);
        store_close(&s);
        *ret = res;
        return 0;
}

void husk_image_resolved_free(husk_image_resolved_t *r)
{
        if (!r)
                return;
        free(r->id);
        strv_free(r->layer_dirs);
        husk_image_config_done(&r->config);
        free(r);
}

int husk_image_rm(const husk_image_opts_t *o, const char *ref, char **ret_removed_id,
                  husk_error_t *err)
{
        store_t s;
        image_record_t *v = NULL;
        size_t n = 0, idx = 0;
        bool by_name = false;
        /* Declared before the first goto: a cleanup variable jumped over is freed uninitialised. */
        _cleanup_free_ char *name = NULL;
        int r = store_open(o, false, &s, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lk = store_lock_records(&s, err);
        if (lk < 0) {
                store_close(&s);
                return lk;
        }
        if ((r = store_records(&s, &v, &n, err)) < 0 ||
            (r = store_find(v, n, ref, &idx, &by_name, err)) < 0)
                goto out;
        image_record_t *rec = &v[idx];
        if (by_name && strv_length(rec->names) > 1) {
                /* Only the name goes (the one ref found, the most exact candidate); the image
                 * keeps its other names. */
                _cleanup_strv_ char **cands = store_name_candidates(ref);
                const char *gone = NULL;
                for (size_t c = 0; cands[c] && !gone; c++)
                        for (size_t k = 0; rec->names[k] && !gone; k++)
                                if (strcmp(rec->names[k], cands[c]) == 0)
                                        gone = cands[c];
                size_t w = 0;
                for (size_t k = 0; rec->names[k]; k++) {
                        if (gone && strcmp(rec->names[k], gone) == 0)
                                free(rec->names[k]);
                        else
                                rec->names[w++] = rec->names[k];
                }
                rec->names[w] = NULL;
                r = store_record_write(&s, rec, err);
                if (r == 0 && ret_removed_id)
                        *ret_removed_id = NULL;
                goto out;
        }
        name = xasprintf("images/%s.json", rec->hex);
        if (unlinkat(s.fd, name, 0) < 0) {
                r = util_syserr(err, errno, "remove %s/%s", s.path, name);
                goto out;
        }
        if (ret_removed_id)
                *ret_removed_id = xasprintf("sha256:%s", rec->hex);
        r = 0;
out:
        image_records_free(v, n);
        store_close(&s);
        return r;
}

/* Whether the image container in folder name of cfd runs image rec: its service.json names the
 * image id (husk run -d); else (a foreground run, a function worker) its layers file lists exactly
 * the image's layers. */
static bool container_uses(int cfd, const char *name, const image_record_t *rec)
{
        _cleanup_free_ char *sp = xasprintf("%s/service.json", name), *lp = xasprintf("%s/layers", name);
        _cleanup_free_ char *text = NULL, *id = xasprintf("sha256:%s", rec->hex);
        if (read_file_at(cfd, sp, 1u << 20, &text, NULL) == 0) {
                yajl_val v = yajl_tree_parse(text, NULL, 0);
                const char *path[] = { "imageId", NULL };
                yajl_val iv = v ? yajl_tree_get(v, path, yajl_t_string) : NULL;
                const char *got = iv ? YAJL_GET_STRING(iv) : NULL;
                bool known = got != NULL, same = got && strcmp(got, id) == 0;
                yajl_tree_free(v);
                if (known)
                        return same;
        }
        free(TAKE_PTR(text));
        if (read_file_at(cfd, lp, 1u << 20, &text, NULL) < 0)
                return false;
        size_t k = 0;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), k++)
                if (!rec->layers || !rec->layers[k] || strcmp(rec->layers[k], l) != 0)
                        return false;
        return k > 0 && rec->layers && !rec->layers[k];
}

static void push_user(char ***v, size_t *n, const char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = xstrdup(s);
        (*v)[*n] = NULL;
}

int husk_image_users(const husk_image_opts_t *o, const char *ref, char **ret_id, char ***ret_users,
                     husk_error_t *err)
{
        store_t s;
        image_record_t rec;
        bool by_name = false;
        int r = find(o, ref, &s, &rec, &by_name, err);
        if (r < 0)
                return r;
        char **users = NULL;
        size_t n = 0;
        /* A name of an image that has others: rm removes only the name. */
        bool only_name = by_name && strv_length(rec.names) > 1;
        _cleanup_close_ int cfd = only_name ? -1 : openat(s.fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int d2 = cfd >= 0 ? fcntl(cfd, F_DUPFD_CLOEXEC, 3) : -1;
        _cleanup_closedir_ DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
        if (!d && d2 >= 0)
                close(d2);
        for (struct dirent *de; d && (de = readdir(d));)
                if (de->d_name[0] != '.' && container_uses(cfd, de->d_name, &rec))
                        push_user(&users, &n, de->d_name);
        if (!users)
                users = xcalloc(1, sizeof(char *));
        *ret_id = only_name ? NULL : xasprintf("sha256:%s", rec.hex);
        *ret_users = users;
        image_record_done(&rec);
        store_close(&s);
        return 0;
}

static bool used(image_record_t *v, size_t n, const char *hex, bool layer)
{
        for (size_t i = 0; i < n; i++) {
                if (!layer && strcmp(v[i].hex, hex) == 0)
                        return true;
                for (size_t k = 0; layer && v[i].layers && v[i].layers[k]; k++)
                        if (strcmp(v[i].layers[k], hex) == 0)
                                return true;
        }
        return false;
}

/* Layers under the roots of image containers (STORE/containers/ID/layers, one diff_id hex a line,
 * written by husk_image_container_prepare) count as used: each becomes a nameless record. */
static void add_container_pins(store_t *s, image_record_t **v, size_t *n)
{
        _cleanup_close_ int cfd = openat(s->fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int d2 = cfd >= 0 ? fcntl(cfd, F_DUPFD_CLOEXEC, 3) : -1;
        _cleanup_closedir_ DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
        if (!d) {
                if (d2 >= 0)
                        close(d2);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = xasprintf("%s/layers", de->d_name), *text = NULL;
                if (de->d_name[0] == '.' || read_file_at(cfd, p, 1u << 20, &text, NULL) < 0)
                        continue;
                image_record_t r = { .hex = "" };
                size_t k = 0;
                r.layers = xcalloc(strlen(text) / DIGEST_HEX_LEN + 2, sizeof(char *));
                char *save = NULL;
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (digest_hex_valid(l))
                                r.layers[k++] = xstrdup(l);
                *v = xrealloc(*v, (*n + 1) * sizeof(image_record_t));
                (*v)[(*n)++] = r;
        }
}

/* Removes entries of folder sub that no image uses. A layer is first renamed into tmp/ and only
 * then deleted, so an interrupted prune never leaves a half-deleted layer under layers/. */
static size_t sweep(store_t *s, const char *sub, image_record_t *v, size_t n, bool layer,
                    husk_error_t *err)
{
        size_t removed = 0;
        _cleanup_close_ int dfd = openat(s->fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int tmp = openat(s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int locks = openat(s->fd, "locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int d2 = dfd >= 0 ? fcntl(dfd, F_DUPFD_CLOEXEC, 3) : -1;
        _cleanup_closedir_ DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
        if (!d) {
                if (d2 >= 0)
                        close(d2);
                return 0;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                char hex[DIGEST_HEX_LEN + 1];
                if (strlen(de->d_name) < DIGEST_HEX_LEN)
                        continue;
                memcpy(hex, de->d_name, DIGEST_HEX_LEN);
                hex[DIGEST_HEX_LEN] = '\0';
                if (!digest_hex_valid(hex) || used(v, n, hex, layer))
                        continue;
                if (!layer) {
                        if (unlinkat(dfd, de->d_name, 0) == 0)
                                removed++;
                        continue;
                }
                char gone[128];
                snprintf(gone, sizeof(gone), "prune-%s", hex);
                if (renameat(dfd, de->d_name, tmp, gone) == 0) {
                        (void)unlinkat(locks, hex, 0);
                        removed++; /* no longer a layer: out of layers/ */
                        int r = rm_rf_at(tmp, gone);
                        /* What stays in tmp/ goes with the next clean; the first failure is
                         * reported, so prune never claims a removal it did not make. */
                        if (r < 0 && err && !err->code)
                                util_syserr(err, -r, "remove %s/tmp/%s", s->path, gone);
                }
        }
        return removed;
}

int husk_image_prune(const husk_image_opts_t *o, size_t *ret_layers_removed, husk_error_t *err)
{
        store_t s;
        image_record_t *v = NULL;
        size_t n = 0;
        /* Exclusive: waits for running loads, whose layers are not in any record yet. */
        int r = store_open(o, true, &s, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lk = store_lock_records(&s, err);
        if (lk < 0 || (r = store_records(&s, &v, &n, err)) < 0) {
                store_close(&s);
                return lk < 0 ? lk : r;
        }
        store_clean_tmp(&s);
        add_container_pins(&s, &v, &n);
        husk_error_t serr = { 0 };
        size_t layers = sweep(&s, "layers", v, n, true, &serr);
        (void)sweep(&s, "configs", v, n, false, NULL);
        store_clean_tmp(&s);
        image_records_free(v, n);
        store_close(&s);
        if (ret_layers_removed)
                *ret_layers_removed = layers;
        if (serr.code) {
                *err = serr;
                return -serr.code;
        }
        return 0;
}

int husk_image_list(const husk_image_opts_t *o, husk_image_info_t **ret, size_t *ret_n,
                    husk_error_t *err)
{
        store_t s;
        image_record_t *v = NULL;
        size_t n = 0;
        int r = store_open(o, false, &s, err);
        if (r < 0)
                return r;
        r = store_records(&s, &v, &n, err);
        store_close(&s);
        if (r < 0)
                return r;
        husk_image_info_t *out = xcalloc(n ? n : 1, sizeof(*out));
        for (size_t i = 0; i < n; i++) {
                out[i].id = xasprintf("sha256:%s", v[i].hex);
                out[i].names = TAKE_PTR(v[i].names);
                out[i].n_layers = strv_length(v[i].layers);
                out[i].size = v[i].size;
                out[i].loaded = TAKE_PTR(v[i].loaded);
        }
        image_records_free(v, n);
        *ret = out;
        *ret_n = n;
        return 0;
}

void husk_image_info_free(husk_image_info_t *v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++) {
                free(v[i].id);
                strv_free(v[i].names);
                free(v[i].loaded);
        }
        free(v);
}
