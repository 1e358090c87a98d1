/* SPDX-License-Identifier: Apache-2.0 */
/* husk_image_load: source -> plan -> verified layers (each unpacked once) -> config -> record. */
#include "store/store.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Defaults a user would accept (README, Images): large enough for any real image (a CUDA or
 * TeX Live layer), small enough that a few KB of gzip cannot fill the disk on their own. */
#define DEFAULT_MAX_ENTRY (4ULL << 30)
#define DEFAULT_MAX_LAYER (16ULL << 30)
#define DEFAULT_MAX_ENTRIES 1000000ULL
#define DEFAULT_MIN_FREE (1ULL << 30)

typedef struct load_ctx {
        const husk_image_opts_t *o; /* may be NULL */
        store_t *s;
        const image_source_t *src;
        int work_fd; /* tmp/NAME of this load, flocked */
        layer_limits_t lim;
        unsigned seq;
        /* Layers this load moved into layers/: a failed load takes them out again. */
        pthread_mutex_t lock;
        char **published;
        size_t n_published;
        int journal_fd; /* tmp/NAME/published: the same list on disk, for a killed load */
} load_ctx_t;

#define JOURNAL "published"


static bool layer_present(store_t *s, const char *hex)
{
        _cleanup_free_ char *p = xasprintf("layers/%s", hex);
        return faccessat(s->fd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static uint64_t layer_size(store_t *s, const char *hex)
{
        _cleanup_free_ char *p = xasprintf("layers/%s/size", hex), *text = NULL;
        uint64_t v = 0;
        if (read_file_at(s->fd, p, 64, &text, NULL) == 0) {
                text[strcspn(text, "\n")] = '\0';
                (void)parse_uint64(text, &v); /* a bad size file only affects the listing */
        }
        return v;
}

/* Unpacks one layer blob into work/L<seq>/diff and checks its digests. On success *ret_dir is the
 * name of the folder in work (holding diff/ and size) and res the digests. */
static int unpack(load_ctx_t *c, const layer_ref_t *l, const char *want_diff, char **ret_dir,
                  layer_result_t *res, husk_error_t *err)
{
        _cleanup_close_ int blob = -1;
        int64_t off = 0, len = -1;
        _cleanup_free_ char *what = l->path ? xasprintf("%s: layer %s", c->src->desc, l->path)
                                            : xstrdup(c->src->desc);
        int r;
        if (l->path) {
                if ((r = image_source_open_file(c->src, l->path, &blob, &off, &len, err)) < 0)
                        return r;
        } else {
                blob = fcntl(c->src->file_fd, F_DUPFD_CLOEXEC, 3);
                if (blob < 0 || lseek(blob, 0, SEEK_SET) < 0)
                        return util_syserr(err, errno, "%s", what);
        }
        /* Before writing: the layer holds at least as many bytes as its blob, usually more. */
        uint64_t need = len > 0 ? (uint64_t)len : l->size > 0 ? (uint64_t)l->size : 0;
        if ((r = layer_check_space(&c->lim, need, what, err)) < 0)
                return r;
        _cleanup_free_ char *dir =
                xasprintf("L%u", __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELAXED));
        _cleanup_close_ int dfd = -1, diff = -1;
        if (mkdirat(c->work_fd, dir, 0700) < 0 ||
            (dfd = openat(c->work_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            mkdirat(dfd, "diff", 0755) < 0 ||
            (diff = openat(dfd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return util_syserr(err, errno, "%s: create work folder", what);
        r = image_layer_apply(blob, off, len, l->comp, diff, what, &c->lim, res, err);
        if (l->path) /* a staged copy is not needed any more: keep tmp/ small */
                image_source_release(c->src, l->path);
        if (r == 0 && l->blob_hex && strcmp(res->blob_hex, l->blob_hex) != 0)
                r = husk_error_set(err, EINVAL,
                                   "%s: blob digest mismatch (expected sha256:%s, got sha256:%s)",
                                   what, l->blob_hex, res->blob_hex);
        if (r == 0 && want_diff && strcmp(res->diff_hex, want_diff) != 0)
                r = husk_error_set(err, EINVAL,
                                   "%s: diff_id mismatch (config says sha256:%s, content is "
                                   "sha256:%s)",
                                   what, want_diff, res->diff_hex);
        if (r == 0) {
                char num[32];
                snprintf(num, sizeof(num), "%llu\n", (unsigned long long)res->bytes);
                r = write_file_atomic_at(dfd, "size", num, strlen(num), 0600);
                if (r < 0)
                        r = util_syserr(err, -r, "%s: write size", what);
        }
        if (r < 0) {
                (void)rm_rf_at(c->work_fd, dir); /* the work folder goes at the end anyway */
                return r;
        }
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

/* Moves a verified work folder to layers/HEX unless it is there already. */
static int publish(load_ctx_t *c, const char *dir, const char *hex, husk_error_t *err)
{
        _cleanup_free_ char *dst = xasprintf("layers/%s", hex);
        _cleanup_free_ char *line = xasprintf("%s\n", hex);
        /* Journaled before the rename: the next load takes out what a killed one published but
         * did not record (reclaim_killed_loads). */
        if (write(c->journal_fd, line, strlen(line)) != (ssize_t)strlen(line))
                return util_syserr(err, errno ? errno : EIO, "store layer sha256:%s: journal", hex);
        if (renameat2(c->work_fd, dir, c->s->fd, dst, RENAME_NOREPLACE) == 0) {
                pthread_mutex_lock(&c->lock);
                c->published = xrealloc(c->published, (c->n_published + 2) * sizeof(char *));
                c->published[c->n_published++] = xstrdup(hex);
                c->published[c->n_published] = NULL;
                pthread_mutex_unlock(&c->lock);
                return 1;
        }
        if (errno == EEXIST || errno == ENOTEMPTY) {
                (void)rm_rf_at(c->work_fd, dir); /* someone else stored it first: same content */
                return 0;
        }
        return util_syserr(err, errno, "store layer sha256:%s", hex);
}

/* Ensures layer diff_id want is in the store. Returns 1 when this call unpacked it, 0 when it was
 * there. A per-layer flock makes a concurrent load wait and then find the layer present. */
static int ensure_layer(load_ctx_t *c, const layer_ref_t *l, const char *want, layer_result_t *res,
                        husk_error_t *err)
{
        _cleanup_close_ int locks = openat(c->s->fd, "locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int lk = locks < 0 ? -1
                                           : openat(locks, want, O_RDWR | O_CREAT | O_CLOEXEC |
                                                                       O_NOFOLLOW, 0600);
        if (lk < 0)
                return util_syserr(err, errno, "lock layer sha256:%s", want);
        while (flock(lk, LOCK_EX) < 0)
                if (errno != EINTR)
                        return util_syserr(err, errno, "lock layer sha256:%s", want);
        if (layer_present(c->s, want))
                return 0;
        if (layer_canceled(&c->lim))
                return husk_error_set(err, ECANCELED, "layer sha256:%s: canceled", want);
        _cleanup_free_ char *dir = NULL;
        int r = unpack(c, l, want, &dir, res, err);
        if (r < 0)
                return r;
        if (layer_canceled(&c->lim)) {
                /* Another layer of this load failed: the load publishes nothing more. */
                (void)rm_rf_at(c->work_fd, dir); /* the work folder goes at the end anyway */
                return husk_error_set(err, ECANCELED, "layer sha256:%s: canceled", want);
        }
        return publish(c, dir, want, err);
}

/* ---- the layers of one image, unpacked in parallel ----
 * Each layer is stored by its diff_id and unpacked into its own work folder, so layers are
 * independent: up to one thread per online CPU takes the next layer to do. The first failure
 * sets cancel; the other threads stop at their next entry (or block of a big entry), remove
 * their work folders and publish nothing. The error reported is the failed layer's with the
 * lowest index (a layer canceled because of it reports nothing). Progress is reported in layer
 * order, under the lock, by whichever thread completes the next layer in order. */
#define MAX_THREADS 32

typedef struct layer_job {
        const layer_ref_t *ref;
        const char *diff;
        bool dup;  /* the same diff_id as an earlier layer: nothing to do */
        bool done;
        int r;     /* < 0 error, 0 already stored, 1 unpacked by this load */
        layer_result_t res;
        husk_error_t err;
} layer_job_t;

typedef struct layer_pool {
        load_ctx_t *c;
        layer_job_t *jobs;
        size_t n;
        pthread_mutex_t lock;
        size_t next;     /* next job to take */
        size_t reported; /* progress was reported for jobs [0, reported) */
        size_t failed;   /* lowest failed job, n when none */
        int cancel;      /* read and written with __atomic */
} layer_pool_t;

/* Reports the progress of the jobs done in order. Called with the lock held. */
static void pool_report(layer_pool_t *p)
{
        const husk_image_opts_t *o = p->c->o;
        while (p->failed == p->n && p->reported < p->n && p->jobs[p->reported].done) {
                layer_job_t *j = &p->jobs[p->reported++];
                if (o && o->progress)
                        o->progress(o->progress_ud, (unsigned)p->reported, (unsigned)p->n,
                                    layer_size(p->c->s, j->diff), j->r > 0);
        }
}

static void *pool_worker(void *arg)
{
        layer_pool_t *p = arg;
        for (;;) {
                pthread_mutex_lock(&p->lock);
                while (p->next < p->n && p->jobs[p->next].dup)
                        p->jobs[p->next++].done = true;
                pool_report(p);
                if (p->next >= p->n || __atomic_load_n(&p->cancel, __ATOMIC_ACQUIRE)) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                size_t i = p->next++;
                pthread_mutex_unlock(&p->lock);

                layer_job_t *j = &p->jobs[i];
                int r = ensure_layer(p->c, j->ref, j->diff, &j->res, &j->err);

                pthread_mutex_lock(&p->lock);
                j->r = r;
                j->done = true;
                bool canceled = r == -ECANCELED && __atomic_load_n(&p->cancel, __ATOMIC_ACQUIRE);
                if (r < 0 && !canceled) {
                        if (i < p->failed)
                                p->failed = i;
                        __atomic_store_n(&p->cancel, 1, __ATOMIC_RELEASE);
                }
                pthread_mutex_unlock(&p->lock);
        }
}

static unsigned pool_threads(size_t work)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        const char *e = getenv("HUSK_UNPACK_THREADS"); /* for measurements: 1 = sequential */
        uint64_t v;
        if (e && parse_uint64(e, &v) == 0 && v > 0)
                cpus = (long)(v < MAX_THREADS ? v : MAX_THREADS);
        if (cpus < 1)
                cpus = 1;
        if (cpus > MAX_THREADS)
                cpus = MAX_THREADS;
        return (unsigned)((size_t)cpus < work ? (size_t)cpus : work);
}

/* Ensures every layer of the plan is stored, unpacking the missing ones in parallel. On success
 * *out counts what was unpacked and skipped. */
static int ensure_layers(load_ctx_t *c, const image_plan_t *pl, char **diff_ids,
                         husk_image_loaded_t *out, husk_error_t *err)
{
        layer_pool_t p = { .c = c, .n = pl->n_layers, .failed = pl->n_layers };
        _cleanup_free_ layer_job_t *jobs = xcalloc(pl->n_layers ? pl->n_layers : 1, sizeof(*jobs));
        size_t work = 0;
        p.jobs = jobs;
        for (size_t i = 0; i < p.n; i++) {
                jobs[i].ref = &pl->layers[i];
                jobs[i].diff = diff_ids[i];
                for (size_t k = 0; k < i && !jobs[i].dup; k++)
                        jobs[i].dup = strcmp(diff_ids[k], diff_ids[i]) == 0;
                work += !jobs[i].dup;
        }
        c->lim.cancel = &p.cancel;
        pthread_mutex_init(&p.lock, NULL);
        unsigned nt = pool_threads(work);
        pthread_t tids[MAX_THREADS];
        unsigned started = 0;
        /* The calling thread is one of the workers; a thread that cannot start is one fewer. */
        while (started + 1 < nt && pthread_create(&tids[started], NULL, pool_worker, &p) == 0)
                started++;
        pool_worker(&p);
        for (unsigned t = 0; t < started; t++)
                pthread_join(tids[t], NULL);
        pthread_mutex_destroy(&p.lock);
        c->lim.cancel = NULL;
        if (p.failed < p.n) {
                const husk_error_t *e = &jobs[p.failed].err;
                return husk_error_set(err, e->code, "%s", e->msg);
        }
        for (size_t i = 0; i < p.n; i++) {
                out->layers_unpacked += jobs[i].r > 0;
                out->skipped_devices += jobs[i].res.skipped_devices;
        }
        return 0;
}

static char *synth_config(const char *diff_hex)
{
        const char *plat = image_host_platform();
        const char *arch = strchr(plat, '/') + 1;
        return xasprintf("{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/"
                         "local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]},\"rootfs\":{"
                         "\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                         arch, diff_hex);
}

static int save_config(store_t *s, const char *hex, const char *text, husk_error_t *err)
{
        _cleanup_free_ char *name = xasprintf("%s.json", hex);
        _cleanup_close_ int dfd = openat(s->fd, "configs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return util_syserr(err, errno, "open %s/configs", s->path);
        if (faccessat(dfd, name, F_OK, 0) == 0)
                return 0;
        int r = write_file_atomic_at(dfd, name, text, strlen(text), 0600);
        return r < 0 ? util_syserr(err, -r, "write %s/configs/%s", s->path, name) : 0;
}

static bool strv_has(char **v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

/* Writes the record of hex with its names added; the names leave any other image. The caller
 * holds the records lock. */
static int record_image(store_t *s, const char *hex, char **names, char **layers, uint64_t size,
                        husk_error_t *err)
{
        image_record_t *v = NULL;
        size_t n = 0;
        int r = store_records(s, &v, &n, err);
        if (r < 0)
                return r;
        image_record_t me = { 0 };
        memcpy(me.hex, hex, DIGEST_HEX_LEN + 1);
        char **merged = strv_copy(names, strv_length(names));
        for (size_t i = 0; i < n && r == 0; i++) {
                if (strcmp(v[i].hex, hex) == 0) {
                        for (size_t k = 0; v[i].names && v[i].names[k]; k++)
                                if (!strv_has(merged, v[i].names[k])) {
                                        size_t m = strv_length(merged);
                                        merged = xrealloc(merged, (m + 2) * sizeof(char *));
                                        merged[m] = xstrdup(v[i].names[k]);
                                        merged[m + 1] = NULL;
                                }
                        me.loaded = xstrdup(v[i].loaded);
                        continue;
                }
                bool changed = false;
                size_t w = 0;
                for (size_t k = 0; v[i].names && v[i].names[k]; k++) {
                        if (strv_has(names, v[i].names[k])) {
                                free(v[i].names[k]);
                                changed = true;
                        } else
                                v[i].names[w++] = v[i].names[k];
                }
                if (v[i].names)
                        v[i].names[w] = NULL;
                if (changed)
                        r = store_record_write(s, &v[i], err);
        }
        if (r == 0) {
                char now[64];
                format_rfc3339(now, sizeof(now), true);
                me.names = merged;
                me.layers = layers;
                me.size = size;
                if (!me.loaded)
                        me.loaded = xstrdup(now);
                r = store_record_write(s, &me, err);
                me.layers = NULL;
        } else
                strv_free(merged);
        image_record_done(&me);
        image_records_free(v, n);
        return r;
}

/* What one image of a load records once every image of the load is ready. */
typedef struct pending {
        char hex[DIGEST_HEX_LEN + 1];
        char *cfg_text;
        char **layers;
        uint64_t size;
} pending_t;

static void pending_free(pending_t *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].cfg_text);
                strv_free(v[i].layers);
        }
        free(v);
}

/* Refuses a layer blob whose size is absurd before reading it: not the size its descriptor
 * gives, or beyond the layer limit. Then copies the blobs still needed out of a compressed
 * archive (nothing else of it is ever written). */
static int stage_layers(load_ctx_t *c, const image_plan_t *p, char **diff_ids, husk_error_t *err)
{
        _cleanup_free_ char **paths = xcalloc(p->n_layers + 1, sizeof(char *));
        _cleanup_free_ int64_t *sizes = xcalloc(p->n_layers + 1, sizeof(int64_t));
        size_t n = 0;
        char lim[32];
        image_format_size(c->lim.max_total, lim);
        for (size_t i = 0; i < p->n_layers; i++) {
                const layer_ref_t *l = &p->layers[i];
                int64_t have = -1;
                int r = image_source_file_size(c->src, l->path, &have, err);
                if (r < 0)
                        return r;
                if (l->size >= 0 && have >= 0 && have != l->size)
                        return husk_error_set(err, EINVAL,
                                              "%s: layer %s: the manifest gives %lld bytes, the "
                                              "archive holds %lld",
                                              c->src->desc, l->path, (long long)l->size,
                                              (long long)have);
                int64_t size = l->size >= 0 ? l->size : have;
                if (size >= 0 && (uint64_t)size > c->lim.max_total)
                        return husk_error_set(err, EFBIG,
                                              "%s: layer %s: %lld bytes, more than the layer "
                                              "limit %s (--max-layer-size)",
                                              c->src->desc, l->path, (long long)size, lim);
                if (!layer_present(c->s, diff_ids[i])) {
                        paths[n] = l->path;
                        sizes[n++] = l->size;
                }
        }
        return image_source_stage((image_source_t *)c->src, paths, sizes, n, err);
}

/* Stores the layers and reads the config of one image; records nothing (see husk_image_load). */
static int load_one(load_ctx_t *c, const image_plan_t *p, husk_image_loaded_t *out,
                    pending_t *pd, husk_error_t *err)
{
        _cleanup_free_ char *cfg_text = NULL;
        _cleanup_strv_ char **layers = xcalloc(p->n_layers + 1, sizeof(char *));
        image_config_t cfg = { 0 };
        uint64_t size = 0;
        int r;

        if (!p->config_path) {
                /* Plain rootfs tarball: unpack first, the diff_id names the layer afterwards. */
                layer_result_t res;
                _cleanup_free_ char *dir = NULL;
                if ((r = unpack(c, &p->layers[0], NULL, &dir, &res, err)) < 0)
                        return r;
                if ((r = publish(c, dir, res.diff_hex, err)) < 0)
                        return r;
                out->layers_unpacked += r;
                out->skipped_devices += res.skipped_devices;
                if (c->o && c->o->progress)
                        c->o->progress(c->o->progress_ud, 1, 1, layer_size(c->s, res.diff_hex), r > 0);
                cfg_text = synth_config(res.diff_hex);
                layers[0] = xstrdup(res.diff_hex);
                size = layer_size(c->s, res.diff_hex);
                out->layers_total = 1;
        } else {
                _cleanup_free_ char *what = xasprintf("%s: config %s", c->src->desc, p->config_path);
                if (p->config_size > IMAGE_JSON_MAX)
                        return husk_error_set(err, EFBIG,
                                              "%s: the manifest gives %lld bytes, more than the "
                                              "8 MiB a config may have",
                                              what, (long long)p->config_size);
                size_t cfg_len = 0;
                if ((r = image_source_read(c->src, p->config_path, p->config_hex, &cfg_text,
                                           &cfg_len, err)) < 0)
                        return r;
                if (p->config_size >= 0 && (size_t)p->config_size != cfg_len)
                        return husk_error_set(err, EINVAL, "%s: %zu bytes, the manifest gives %lld",
                                              what, cfg_len, (long long)p->config_size);
                if ((r = image_config_parse(cfg_text, what, &cfg, err)) < 0)
                        return r;
                if (cfg.n_diff_ids != p->n_layers)
                        r = husk_error_set(err, EINVAL, "%s: %zu diff_ids for %zu layers", what,
                                           cfg.n_diff_ids, p->n_layers);
                if (r == 0)
                        r = stage_layers(c, p, cfg.diff_ids, err);
                out->layers_total = (unsigned)p->n_layers;
                if (r == 0)
                        r = ensure_layers(c, p, cfg.diff_ids, out, err);
                if (r < 0) {
                        image_config_done(&cfg);
                        return r;
                }
                for (size_t i = 0; i < p->n_layers; i++) {
                        layers[i] = xstrdup(cfg.diff_ids[i]);
                        size += layer_size(c->s, cfg.diff_ids[i]);
                }
                image_config_done(&cfg);
        }
        digest_buffer(cfg_text, strlen(cfg_text), pd->hex);
        pd->cfg_text = TAKE_PTR(cfg_text);
        pd->layers = TAKE_PTR(layers);
        pd->size = size;
        out->id = xasprintf("sha256:%s", pd->hex);
        out->names = strv_copy(p->names, strv_length(p->names));
        return 0;
}

/* Records every image of a load under one records lock, after checking that their layers are
 * still there (a concurrent failed load takes out only the layers no record uses). */
static int record_all(load_ctx_t *c, const image_plan_t *plans, const pending_t *pd, size_t n,
                      husk_error_t *err)
{
        _cleanup_close_ int lk = store_lock_records(c->s, err);
        int r;
        if (lk < 0)
                return lk;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; pd[i].layers[k]; k++)
                        if (!layer_present(c->s, pd[i].layers[k]))
                                return husk_error_set(err, EAGAIN,
                                                      "%s: layer sha256:%s was removed by a "
                                                      "concurrent failed load; load again",
                                                      c->src->desc, pd[i].layers[k]);
        for (size_t i = 0; i < n; i++)
                if ((r = save_config(c->s, pd[i].hex, pd[i].cfg_text, err)) < 0)
                        return r;
        for (size_t i = 0; i < n; i++)
                if ((r = record_image(c->s, pd[i].hex, plans[i].names, pd[i].layers, pd[i].size,
                                      err)) < 0)
                        return r;
        return 0;
}

/* Moves the layers hexes that no image record uses from layers/ into the folder tmp/dir (which
 * is removed afterwards): layers/ never holds a half-removed layer. */
static void take_out_layers(store_t *s, char *const *hexes, const char *dir)
{
        husk_error_t ignored = { 0 }; /* a load that cannot lock or read records keeps them */
        image_record_t *v = NULL;
        size_t n = 0;
        if (!hexes || !hexes[0])
                return;
        _cleanup_close_ int lk = store_lock_records(s, &ignored);
        if (lk < 0 || store_records(s, &v, &n, &ignored) < 0)
                return;
        for (size_t p = 0; hexes[p]; p++) {
                bool used = !digest_hex_valid(hexes[p]);
                for (size_t i = 0; i < n && !used; i++)
                        for (size_t k = 0; v[i].layers && v[i].layers[k] && !used; k++)
                                used = strcmp(v[i].layers[k], hexes[p]) == 0;
                if (used)
                        continue;
                _cleanup_free_ char *src = xasprintf("layers/%s", hexes[p]);
                _cleanup_free_ char *dst = xasprintf("tmp/%s/gone-%s", dir, hexes[p]);
                (void)renameat(s->fd, src, s->fd, dst); /* the folder is removed next */
        }
        image_records_free(v, n);
}

/* A failed load: the layers it stored that no image record uses go again (layers that were
 * there before stay: this load did not store them). */
static void unpublish(load_ctx_t *c, const char *work)
{
        take_out_layers(c->s, c->published, work);
}

/* The journal of a killed load's work folder (flocked by the caller), as a list. */
static char **journal_read(int fd)
{
        _cleanup_free_ char *text = NULL;
        char **v = NULL, *save = NULL;
        size_t n = 0;
        if (read_file_at(fd, JOURNAL, 1u << 20, &text, NULL) < 0)
                return NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(l);
                v[n] = NULL;
        }
        return v;
}

/* A load killed after storing layers but before recording its images (kill -9 between two
 * images of an archive): its work folder, no longer locked, lists them in its journal; those no
 * record uses are taken out before store_clean_tmp removes the folder. The folders are found
 * under the tmp lock and kept flocked while the records lock is taken: the two locks are never
 * held together (prune takes them in the other order). */
static void reclaim_killed_loads(store_t *s)
{
        _cleanup_close_ int tfd = openat(s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_strv_ char **names = NULL;
        int *fds = NULL;
        size_t n = 0;
        if (tfd < 0)
                return;
        {
                _cleanup_close_ int lk = store_lock_tmp(s); /* no folder is half made meanwhile */
                int dfd = fcntl(tfd, F_DUPFD_CLOEXEC, 3);
                _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
                struct dirent *de;
                if (!d && dfd >= 0)
                        close(dfd);
                while (d && n < 64 && (de = readdir(d))) {
                        if (strncmp(de->d_name, "load-", 5) != 0)
                                continue;
                        int fd = openat(tfd, de->d_name,
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        /* A running load holds its folder's lock; only a killed one's is free. */
                        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
                            faccessat(fd, JOURNAL, F_OK, 0) < 0) {
                                if (fd >= 0)
                                        close(fd);
                                continue;
                        }
                        names = xrealloc(names, (n + 2) * sizeof(char *));
                        fds = xrealloc(fds, (n + 1) * sizeof(int));
                        names[n] = xstrdup(de->d_name);
                        fds[n++] = fd;
                        names[n] = NULL;
                }
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_ char **hexes = journal_read(fds[i]);
                take_out_layers(s, hexes, names[i]);
                close(fds[i]);
        }
        free(fds);
}

void husk_image_loaded_free(husk_image_loaded_t *v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++) {
                free(v[i].id);
                strv_free(v[i].names);
        }
        free(v);
}

/* The limits of this load: the options, else the defaults. */
static void load_limits(const husk_image_opts_t *o, store_t *s, layer_limits_t *lim)
{
        struct statvfs sv;
        *lim = (layer_limits_t){ .space_fd = s->fd };
        lim->max_entry = o && o->max_entry_size ? o->max_entry_size : DEFAULT_MAX_ENTRY;
        lim->max_total = o && o->max_layer_size ? o->max_layer_size : DEFAULT_MAX_LAYER;
        lim->max_entries = o && o->max_entries ? o->max_entries : DEFAULT_MAX_ENTRIES;
        if (o && o->min_free_space)
                lim->min_free = o->min_free_space;
        else {
                /* 1 GiB, or 5% of a small filesystem (a test store on a small tmpfs). */
                uint64_t size = 0;
                if (fstatvfs(s->fd, &sv) == 0)
                        size = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
                lim->min_free = size && size / 20 < DEFAULT_MIN_FREE ? size / 20 : DEFAULT_MIN_FREE;
        }
}

/* Creates and flocks this load's work folder tmp/load-XXXXXX. */
static int work_create(store_t *s, char **ret_name, int *ret_fd, husk_error_t *err)
{
        _cleanup_free_ char *tmpl = xasprintf("%s/tmp/load-XXXXXX", s->path);
        /* Between mkdtemp and flock the folder looks like a leftover: keep cleaners out. */
        _cleanup_close_ int lk = store_lock_tmp(s);
        if (lk < 0)
                return util_syserr(err, -lk, "lock %s/.tmp.lock", s->path);
        if (!mkdtemp(tmpl))
                return util_syserr(err, errno, "create %s", tmpl);
        int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                rmdir(tmpl);
                return util_syserr(err, e, "lock %s", tmpl);
        }
        *ret_name = xstrdup(strrchr(tmpl, '/') + 1);
        *ret_fd = fd;
        return 0;
}

/* A load is all or nothing: every image of the archive is checked and its layers stored first,
 * then all are recorded at once; a failure takes out the layers this load stored. */
int husk_image_load(const husk_image_opts_t *o, const char *path, husk_image_loaded_t **ret,
                    size_t *ret_n, husk_error_t *err)
{
        store_t s;
        image_source_t src = { .dirfd = -1, .file_fd = -1, .archive_fd = -1 };
        image_plan_t *plans = NULL;
        pending_t *pd = NULL;
        size_t n = 0;
        husk_image_loaded_t *out = NULL;
        _cleanup_free_ char *work = NULL;
        _cleanup_close_ int work_fd = -1, stage_fd = -1, tmp_fd = -1;
        load_ctx_t c = { .o = o, .s = &s, .src = &src, .journal_fd = -1 };
        int r = store_open(o, false, &s, err);
        if (r < 0)
                return r;
        pthread_mutex_init(&c.lock, NULL);
        load_limits(o, &s, &c.lim);
        reclaim_killed_loads(&s);
        store_clean_tmp(&s);
        if ((r = work_create(&s, &work, &work_fd, err)) < 0)
                goto out;
        c.work_fd = work_fd;
        c.journal_fd = openat(work_fd, JOURNAL, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (c.journal_fd < 0) {
                r = util_syserr(err, errno, "create %s/tmp/%s/%s", s.path, work, JOURNAL);
                goto out;
        }
        if (mkdirat(work_fd, "stage", 0700) < 0 ||
            (stage_fd = openat(work_fd, "stage", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
                r = util_syserr(err, errno, "create %s/tmp/%s/stage", s.path, work);
                goto out;
        }
        if ((r = image_source_open(path, stage_fd, &c.lim, &src, err)) < 0)
                goto out;
        const char *platform = o && o->platform ? o->platform : image_host_platform();
        if ((r = image_source_plan(&src, platform, &plans, &n, err)) < 0)
                goto out;
        out = xcalloc(n, sizeof(*out));
        pd = xcalloc(n, sizeof(*pd));
        for (size_t i = 0; i < n; i++)
                if ((r = load_one(&c, &plans[i], &out[i], &pd[i], err)) < 0)
                        goto out;
        if ((r = record_all(&c, plans, pd, n, err)) < 0)
                goto out;
        *ret = TAKE_PTR(out);
        *ret_n = n;
        r = 0;
out:
        if (r < 0 && work)
                unpublish(&c, work);
        husk_image_loaded_free(out, n);
        pending_free(pd, n);
        image_plan_free(plans, n);
        free(plans);
        image_source_close(&src);
        if (work) {
                /* Nothing of a failed load stays: its work folder holds every partial layer. */
                tmp_fd = openat(s.fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (tmp_fd >= 0)
                        (void)rm_rf_at(tmp_fd, work); /* a leftover is removed by the next load */
        }
        strv_free(c.published);
        if (c.journal_fd >= 0)
                close(c.journal_fd);
        pthread_mutex_destroy(&c.lock);
        store_close(&s);
        return r;
}
