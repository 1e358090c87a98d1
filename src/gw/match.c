/* SPDX-License-Identifier: Apache-2.0 */
/* The data plane's view of the model: an immutable snapshot (every API, its stages and, per
 * stage, the routes and integrations of its deployment, compiled for matching), rebuilt only when
 * the store's generation moved, and API Gateway's selection of stage and route. */
#include "gwint.h"
#include "util/util.h"

#include <stdatomic.h>
#include <string.h>
#include <strings.h>

typedef struct snap_stage {
        gw_stage *stage;
        gw_route **routes;
        size_t n_routes;
        gw_integration **ints;
        size_t n_ints;
        gw_croute *c; /* compiled routes (n_routes) */
        bool deployed;
} snap_stage;

typedef struct snap_api {
        gw_api *api;
        snap_stage *stages;
        size_t n_stages;
} snap_api;

struct gw_snapshot {
        _Atomic long refs;
        uint64_t gen;
        snap_api *apis; /* sorted by id */
        size_t n_apis;
};

/* store.c */
int gw_store_scan(gw_store *s, void (*api_cb)(void *, const json_value *),
                  void (*stage_cb)(void *, const json_value *stage, const json_value *frozen),
                  void *ud, gw_error *err);
gw_snapshot *gw_snapshot_build(gw_store *s, uint64_t gen, gw_error *err);
void gw_snapshot_ref(gw_snapshot *snap);
uint64_t gw_snapshot_gen(const gw_snapshot *snap);

/* ---------------------------------------------------------------- compiling a route key */

int gw_route_compile(const char *key, gw_croute *c)
{
        memset(c, 0, sizeof(*c));
        char why[8];
        if (!gw_route_key_valid(key, why, sizeof(why)))
                return -1;
        if (strcmp(key, GW_DEFAULT_ROUTE) == 0) {
                c->is_default = true;
                return 0;
        }
        const char *sp = strchr(key, ' ');
        snprintf(c->method, sizeof(c->method), "%.*s", (int)(sp - key), key);
        c->any = strcmp(c->method, "ANY") == 0;
        const char *p = sp + 1;
        if (strcmp(p, "/") == 0)
                return 0;
        size_t n = 0;
        for (const char *q = p; *q; q++)
                n += *q == '/';
        c->segs = xcalloc(n, sizeof(*c->segs));
        while (*p == '/') {
                const char *seg = p + 1, *end = strchr(seg, '/');
                size_t len = end ? (size_t)(end - seg) : strlen(seg);
                gw_seg *g = &c->segs[c->n_segs++];
                if (seg[0] == '{') {
                        bool greedy = seg[len - 2] == '+';
                        g->kind = greedy ? GW_SEG_GREEDY : GW_SEG_PARAM;
                        g->len = len - 2 - greedy;
                        g->text = xstrndup(seg + 1, g->len);
                } else {
                        g->kind = GW_SEG_LIT;
                        g->len = len;
                        g->text = xstrndup(seg, len);
                }
                p = seg + len;
        }
        return 0;
}

void gw_croute_done(gw_croute *c)
{
        for (size_t i = 0; i < c->n_segs; i++)
                free(c->segs[i].text);
        free(c->segs);
        memset(c, 0, sizeof(*c));
}

/* ---------------------------------------------------------------- the snapshot */

static void stage_free(snap_stage *st)
{
        for (size_t i = 0; i < st->n_routes; i++) {
                gw_route_free(st->routes[i]);
                if (st->c)
                        gw_croute_done(&st->c[i]);
        }
        free(st->routes);
        free(st->c);
        for (size_t i = 0; i < st->n_ints; i++)
                gw_integration_free(st->ints[i]);
        free(st->ints);
        gw_stage_free(st->stage);
}

static void snapshot_free(gw_snapshot *snap)
{
        for (size_t i = 0; i < snap->n_apis; i++) {
                for (size_t k = 0; k < snap->apis[i].n_stages; k++)
                        stage_free(&snap->apis[i].stages[k]);
                free(snap->apis[i].stages);
                gw_api_free(snap->apis[i].api);
        }
        free(snap->apis);
        free(snap);
}

void gw_snapshot_ref(gw_snapshot *snap)
{
        atomic_fetch_add(&snap->refs, 1);
}

void gw_snapshot_unref(gw_snapshot *snap)
{
        if (snap && atomic_fetch_sub(&snap->refs, 1) == 1)
                snapshot_free(snap);
}

uint64_t gw_snapshot_gen(const gw_snapshot *snap)
{
        return snap->gen;
}

static void on_api(void *ud, const json_value *v)
{
        gw_snapshot *snap = ud;
        gw_api *a = NULL;
        if (gw_api_read(v, &a) < 0)
                return;
        snap->apis = xrealloc(snap->apis, (snap->n_apis + 1) * sizeof(*snap->apis));
        snap->apis[snap->n_apis++] = (snap_api){ .api = a };
}

static const gw_integration *find_int(const snap_stage *st, const char *target)
{
        if (!target || strncmp(target, "integrations/", 13) != 0)
                return NULL;
        for (size_t i = 0; i < st->n_ints; i++)
                if (strcmp(st->ints[i]->id, target + 13) == 0)
                        return st->ints[i];
        return NULL;
}

static void on_stage(void *ud, const json_value *v, const json_value *frozen)
{
        gw_snapshot *snap = ud;
        if (!snap->n_apis)
                return;
        snap_api *a = &snap->apis[snap->n_apis - 1];
        snap_stage st = { 0 };
        if (gw_stage_read(v, &st.stage) < 0)
                return;
        const json_value *r = json_get(frozen, "routes"), *in = json_get(frozen, "integrations");
        st.deployed = frozen != NULL;
        for (size_t i = 0; in && in->type == JSON_ARRAY && i < in->n; i++) {
                gw_integration *x = NULL;
                if (gw_integration_read(in->items[i], &x) < 0)
                        continue;
                st.ints = xrealloc(st.ints, (st.n_ints + 1) * sizeof(*st.ints));
                st.ints[st.n_ints++] = x;
        }
        if (r && r->type == JSON_ARRAY && r->n) {
                st.routes = xcalloc(r->n, sizeof(*st.routes));
                st.c = xcalloc(r->n, sizeof(*st.c));
        }
        for (size_t i = 0; r && r->type == JSON_ARRAY && i < r->n; i++) {
                gw_route *x = NULL;
                if (gw_route_read(r->items[i], &x) < 0)
                        continue;
                if (gw_route_compile(x->route_key, &st.c[st.n_routes]) < 0) {
                        gw_route_free(x);
                        continue;
                }
                st.c[st.n_routes].route = x;
                st.c[st.n_routes].integration = find_int(&st, x->target);
                st.routes[st.n_routes++] = x;
        }
        a->stages = xrealloc(a->stages, (a->n_stages + 1) * sizeof(*a->stages));
        a->stages[a->n_stages++] = st;
}

static int api_cmp(const void *x, const void *y)
{
        const snap_api *a = x, *b = y;
        return strcmp(a->api->id, b->api->id);
}

gw_snapshot *gw_snapshot_build(gw_store *s, uint64_t gen, gw_error *err)
{
        gw_snapshot *snap = xcalloc(1, sizeof(*snap));
        atomic_store(&snap->refs, 1);
        snap->gen = gen;
        if (gw_store_scan(s, on_api, on_stage, snap, err) < 0) {
                snapshot_free(snap);
                return NULL;
        }
        if (snap->n_apis)
                qsort(snap->apis, snap->n_apis, sizeof(*snap->apis), api_cmp);
        return snap;
}

/* ---------------------------------------------------------------- selecting */

static const snap_api *find_api(const gw_snapshot *snap, const char *id, size_t len)
{
        size_t lo = 0, hi = snap->n_apis;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const char *m = snap->apis[mid].api->id;
                int c = strncmp(m, id, len);
                if (c == 0 && m[len])
                        c = 1;
                if (c == 0)
                        return &snap->apis[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const gw_api *gw_select_api(const gw_snapshot *snap, const char *host)
{
        if (!snap)
                return NULL;
        if (host && *host) {
                /* "ID.execute-api.anything" or "ID.localhost" (an optional :port after) */
                size_t hl = strcspn(host, ":");
                const char *dot = memchr(host, '.', hl);
                if (dot) {
                        size_t idl = (size_t)(dot - host);
                        const char *rest = dot + 1;
                        size_t rl = hl - idl - 1;
                        bool named = (rl > 12 && strncasecmp(rest, "execute-api.", 12) == 0) ||
                                     (rl == 9 && strncasecmp(rest, "localhost", 9) == 0);
                        if (named) {
                                const snap_api *a = find_api(snap, host, idl);
                                return a ? a->api : NULL;
                        }
                }
        }
        return snap->n_apis == 1 ? snap->apis[0].api : NULL;
}

static const snap_stage *find_stage(const snap_api *a, const char *name, size_t len)
{
        for (size_t i = 0; i < a->n_stages; i++) {
                const char *n = a->stages[i].stage->name;
                if (strlen(n) == len && strncmp(n, name, len) == 0)
                        return &a->stages[i];
        }
        return NULL;
}

/* Does c match the path's segments? The segments are "/"-separated after the leading "/", a
 * trailing "/" ignored ("/" has none). */
static bool route_matches(const gw_croute *c, const char *method, const char *path)
{
        if (!c->any && strcmp(c->method, method) != 0)
                return false;
        const char *p = path;
        size_t plen = strlen(p);
        if (plen > 1 && p[plen - 1] == '/')
                plen--;
        if (plen <= 1) /* "/" */
                return c->n_segs == 0;
        size_t at = 1; /* after the leading '/' */
        for (size_t i = 0; i < c->n_segs; i++) {
                const gw_seg *g = &c->segs[i];
                if (at > plen)
                        return false;
                if (g->kind == GW_SEG_GREEDY)
                        return at < plen; /* one character at least */
                const char *seg = p + at;
                const char *slash = memchr(seg, '/', plen - at);
                size_t n = slash ? (size_t)(slash - seg) : plen - at;
                if (g->kind == GW_SEG_LIT ? (n != g->len || memcmp(seg, g->text, n) != 0) : n == 0)
                        return false;
                at += n + 1;
        }
        return at > plen; /* every segment used */
}

/* >0 when a is more specific than b: segment by segment literal > {param} > {proxy+}, then an
 * exact method before ANY. */
static int specificity(const gw_croute *a, const gw_croute *b)
{
        for (size_t i = 0; i < a->n_segs && i < b->n_segs; i++)
                if (a->segs[i].kind != b->segs[i].kind)
                        return (int)a->segs[i].kind - (int)b->segs[i].kind;
        if (a->n_segs != b->n_segs) /* only a greedy route can be shorter and still match */
                return a->n_segs > b->n_segs ? 1 : -1;
        return (int)b->any - (int)a->any;
}

static void fill_params(const gw_croute *c, const char *path, gw_match *m)
{
        size_t full = strlen(path), plen = full, need = 0;
        if (plen > 1 && path[plen - 1] == '/')
                plen--;
        need = full + 1;
        for (size_t i = 0; i < c->n_segs; i++)
                need += c->segs[i].len + 2;
        m->buf = xmalloc(need);
        char *o = m->buf;
        size_t at = 1;
        for (size_t i = 0; i < c->n_segs && m->n_params < GW_PATH_PARAMS_MAX; i++) {
                const gw_seg *g = &c->segs[i];
                const char *seg = path + at;
                size_t n;
                if (g->kind == GW_SEG_GREEDY) {
                        n = full - at; /* the rest as it came, a trailing '/' too */
                } else {
                        const char *slash = memchr(seg, '/', plen - at);
                        n = slash ? (size_t)(slash - seg) : plen - at;
                }
                if (g->kind != GW_SEG_LIT) {
                        gw_kv *kv = &m->params[m->n_params++];
                        memcpy(o, g->text, g->len);
                        o[g->len] = '\0';
                        kv->name = o;
                        o += g->len + 1;
                        memcpy(o, seg, n);
                        o[n] = '\0';
                        kv->value = o;
                        o += n + 1;
                }
                at += n + 1;
        }
}

static void throttle_of(const gw_stage *st, const char *key, gw_throttle *t)
{
        *t = st->default_throttle;
        for (size_t i = 0; key && i < st->n_route_settings; i++) {
                const gw_route_setting *rs = &st->route_settings[i];
                if (strcmp(rs->route_key, key) != 0)
                        continue;
                if (rs->throttle.rate >= 0)
                        t->rate = rs->throttle.rate;
                if (rs->throttle.burst >= 0)
                        t->burst = rs->throttle.burst;
        }
}

int gw_match_request(const gw_snapshot *snap, const gw_api *api, const char *method,
                     const char *path, gw_match *m)
{
        memset(m, 0, sizeof(*m));
        const snap_api *a = api ? find_api(snap, api->id, strlen(api->id)) : NULL;
        if (!a || !path || path[0] != '/')
                return -ENOENT;
        m->api = a->api;
        /* the stage: the first segment when a stage has that name, else $default at the root */
        const char *seg = path + 1;
        size_t n = strcspn(seg, "/");
        const snap_stage *st = NULL;
        if (n && !(n == strlen(GW_DEFAULT_STAGE) && strncmp(seg, GW_DEFAULT_STAGE, n) == 0))
                st = find_stage(a, seg, n);
        if (st) {
                m->stage_path = seg[n] ? seg + n : "/";
        } else {
                st = find_stage(a, GW_DEFAULT_STAGE, strlen(GW_DEFAULT_STAGE));
                m->stage_path = path;
        }
        if (!st)
                return -ENOENT;
        m->stage = st->stage;
        const gw_croute *best = NULL, *def = NULL;
        for (size_t i = 0; i < st->n_routes; i++) {
                const gw_croute *c = &st->c[i];
                if (c->is_default) {
                        def = c;
                        continue;
                }
                if (route_matches(c, method, m->stage_path) && (!best || specificity(c, best) > 0))
                        best = c;
        }
        if (!best)
                best = def;
        if (best) {
                m->route = best->route;
                m->integration = best->integration;
                m->route_key = best->route->route_key;
                fill_params(best, m->stage_path, m);
        }
        throttle_of(st->stage, m->route_key, &m->throttle);
        return 0;
}

void gw_match_done(gw_match *m)
{
        free(m->buf);
        m->buf = NULL;
        m->n_params = 0;
}
