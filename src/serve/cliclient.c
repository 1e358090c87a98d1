/* SPDX-License-Identifier: Apache-2.0 */
/* The shared prelude of husk's server clients (cliclient.h): options, server, keys, one call. */
#include "cliclient.h"
#include "husk/image.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cliclient_fail(const char *prog, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: ", prog);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return 1;
}

/* ---------------------------------------------------------------- options */

static bool *flag_of(const cliclient_syntax *s, void *args, const char *word)
{
        if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0)
                return (bool *)((char *)args + s->help_off);
        for (size_t k = 0; k < s->n_flags; k++)
                if (strcmp(s->flags[k].name, word) == 0)
                        return (bool *)((char *)args + s->flags[k].off);
        return NULL;
}

/* A value option NAME (len bytes of it) = val: 0, or 1 printed. */
static int take_value(const cliclient_syntax *s, void *args, const char *name, size_t len,
                      const char *val)
{
        for (size_t k = 0; k < s->n_values; k++) {
                const cliclient_opt *o = &s->values[k];
                if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
                        *(const char **)((char *)args + o->off) = val;
                        return 0;
                }
        }
        int r = s->more ? s->more(args, name, len, val) : 0;
        if (r < 0)
                return 1;
        if (r == 0)
                return cliclient_fail(s->prog, "unknown option --%.*s (%s)", (int)len, name,
                                      s->help);
        return 0;
}

int cliclient_parse(const cliclient_syntax *s, int argc, char **argv, void *args)
{
        const char **pos = (const char **)((char *)args + s->pos_off);
        int *npos = (int *)((char *)args + s->npos_off);
        for (int i = 0; i < argc; i++) {
                const char *w = argv[i];
                bool *flag = flag_of(s, args, w);
                if (flag) {
                        *flag = true;
                        continue;
                }
                if (strncmp(w, "--", 2) != 0 || !w[2]) {
                        if (*npos >= s->max_pos && s->plain_overflow)
                                return cliclient_fail(s->prog, "too many arguments at %s", w);
                        if (*npos >= s->max_pos)
                                return cliclient_fail(s->prog, "too many arguments at '%s' (%s)", w,
                                                      s->help);
                        pos[(*npos)++] = w;
                        continue;
                }
                const char *name = w + 2, *eq = strchr(name, '=');
                size_t len = eq ? (size_t)(eq - name) : strlen(name);
                const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
                if (!val)
                        return cliclient_fail(s->prog, "%s needs a value", w);
                if (!eq)
                        i++;
                if (take_value(s, args, name, len, val))
                        return 1;
        }
        return 0;
}

/* ---------------------------------------------------------------- the server and the caller */

static char *store_file(const char *store, const char *rel)
{
        husk_image_opts_t o = { .store = store };
        return xasprintf("%s/fn/%s", husk_image_store_path(&o), rel);
}

/* The first line of STORE/fn/rel (a file the server writes), or NULL. */
static char *read_small(const char *store, const char *rel)
{
        _cleanup_free_ char *path = store_file(store, rel);
        char *s = NULL;
        if (read_file_at(AT_FDCWD, path, 256, &s, NULL) < 0)
                return NULL;
        s[strcspn(s, "\n")] = '\0';
        return s;
}

char *cliclient_endpoint(const char *store, const char *endpoint)
{
        char *ep = endpoint ? xstrdup(endpoint) : read_small(store, "serve.addr");
        return ep ? ep : xstrdup("127.0.0.1:9000");
}

void cliclient_open(cliclient *c, const char *prog, const char *store, const char *endpoint,
                    const char *region)
{
        memset(c, 0, sizeof(*c));
        c->prog = prog;
        c->endpoint = cliclient_endpoint(store, endpoint);
        c->region = region ? xstrdup(region) : read_small(store, "serve.region");
        if (!c->region)
                c->region = xstrdup("us-east-1");
        husk_image_opts_t o = { .store = store };
        char why[512];
        if (serve_creds_load(husk_image_store_path(&o), false, &c->creds, why, sizeof(why)) == 0) {
                c->have_creds = true;
                return;
        }
        const char *id = getenv("AWS_ACCESS_KEY_ID"), *sec = getenv("AWS_SECRET_ACCESS_KEY");
        if (id && sec && strlen(id) <= SERVE_KEY_ID_LEN && strlen(sec) <= SERVE_SECRET_LEN) {
                snprintf(c->creds.key_id, sizeof(c->creds.key_id), "%s", id);
                snprintf(c->creds.secret, sizeof(c->creds.secret), "%s", sec);
                c->have_creds = true;
        }
}

void cliclient_close(cliclient *c)
{
        free(c->endpoint);
        free(c->region);
        explicit_bzero(&c->creds, sizeof(c->creds));
}

/* ---------------------------------------------------------------- one call */

int cliclient_send(const cliclient *c, const cliclient_wire *w, const cliclient_req *rq,
                   serve_answer *ret)
{
        serve_call sc = { .endpoint = c->endpoint, .method = rq->method, .path = rq->path,
                          .headers = rq->headers, .n_headers = rq->n_headers, .body = rq->body,
                          .len = rq->len ? rq->len : rq->body ? strlen(rq->body) : 0,
                          .creds = c->have_creds ? &c->creds : NULL, .region = c->region,
                          .service = rq->service };
        char why[512];
        if (serve_client_call(&sc, ret, why, sizeof(why)) < 0)
                return cliclient_fail(c->prog, "%s%s", why, w->hint);
        return 0;
}

/* "OP: text" (or the text) printed; text freed. */
static int fail_with(const cliclient *c, const cliclient_req *rq, char *text)
{
        int r = cliclient_fail(c->prog, "%s%s%s", rq->op ? rq->op : "", rq->op ? ": " : "", text);
        free(text);
        return r;
}

int cliclient_call(const cliclient *c, const cliclient_wire *w, const cliclient_req *rq,
                   json_value **ret)
{
        serve_answer an;
        int r = cliclient_send(c, w, rq, &an);
        if (r)
                return r;
        json_value *v = NULL;
        char why[128];
        if ((an.len || w->strict) && json_parse(an.body, an.len, &v, why, sizeof(why)) < 0) {
                r = fail_with(c, rq, w->not_json ? w->not_json(&an)
                                                 : xasprintf("HTTP %u, not JSON: %.200s", an.status,
                                                             an.body));
                serve_answer_free(&an);
                return r;
        }
        if (w->strict ? an.status != 200 : an.status >= 300) {
                r = fail_with(c, rq, w->error(&an, v));
                json_value_free(v);
                serve_answer_free(&an);
                return r;
        }
        serve_answer_free(&an);
        if (ret)
                *ret = v ? v : xcalloc(1, sizeof(json_value));
        else
                json_value_free(v);
        return 0;
}

int cliclient_rest(const cliclient *c, const cliclient_wire *w, const char *service,
                   const char *method, const char *path, char *body, json_value **ret)
{
        _cleanup_free_ char *b = body;
        static const serve_kv h[] = { { (char *)"Content-Type", (char *)"application/json" } };
        cliclient_req rq = { .service = service, .method = method, .path = path, .headers = h,
                             .n_headers = body ? 1 : 0, .body = body };
        return cliclient_call(c, w, &rq, ret);
}
