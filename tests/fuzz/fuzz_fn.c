/* SPDX-License-Identifier: Apache-2.0 */
/* The function host of the control-plane harnesses (see fuzz_fn.h). */
#include "fuzz.h"
#include "fuzz_fn.h"

#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fn_host {
        fn_host_opts o;
        fn_db *db;
};

fn_db *fn_host_db(fn_host *h)
{
        return h->db;
}

const fn_host_opts *fn_host_options(fn_host *h)
{
        return &h->o;
}

/* As src/fn/host.c. */
char *fn_host_function_arn(fn_host *h, const char *name)
{
        return xasprintf("arn:aws:lambda:%s:%s:function:%s", h->o.region ? h->o.region : "us-east-1",
                         h->o.account ? h->o.account : "000000000000", name);
}

/* Only the pollers invoke (src/fn/esm.c run_batch): the harnesses start none. */
void fn_host_invoke(fn_host *h, const char *name, const char *payload, size_t len, bool may_queue,
                    fn_result *res)
{
        (void)h;
        (void)payload;
        (void)len;
        (void)may_queue;
        (void)res;
        fuzz_fail("an invocation of %s: no poller runs in the harness", name);
}

void fn_host_finish(fn_host *h, fn_result *res)
{
        (void)h;
        (void)res;
        fuzz_fail("fn_host_finish: no poller runs in the harness");
}

void fn_result_done(fn_result *r)
{
        free(r->body);
        free(r->log_tail);
        r->body = r->log_tail = NULL;
}

fn_host *fuzz_fn_host(const char *zip_base)
{
        static fn_host h;
        if (h.db)
                return &h;
        char *store = xasprintf("%s/store", fuzz_root());
        char *fn = xasprintf("%s/fn", store), *dbp = xasprintf("%s/fn/fn.db", store);
        if (mkdir(store, 0700) < 0 || mkdir(fn, 0700) < 0)
                fuzz_fail("mkdir %s: %s", fn, strerror(errno));
        husk_error_t err = { 0 };
        if (fn_db_open(dbp, &h.db, &err) < 0)
                fuzz_fail("fn_db_open %s: %s", dbp, err.msg);
        h.o.store = store; /* kept for the process */
        h.o.zip_base_image = zip_base;
        free(fn);
        free(dbp);
        return &h;
}

int fuzz_fn_req_parse(const char *text, size_t len, fuzz_fn_req *q)
{
        memset(q, 0, sizeof(*q));
        const char *nl = memchr(text, '\n', len);
        size_t ll = nl ? (size_t)(nl - text) : len;
        const char *sp = memchr(text, ' ', ll);
        if (!sp || sp == text || memchr(text, '\0', ll))
                return -1;
        const char *target = sp + 1, *end = text + ll;
        const char *qm = memchr(target, '?', (size_t)(end - target));
        size_t plen = qm ? (size_t)(qm - target) : (size_t)(end - target);
        if (plen == 0)
                return -1;
        size_t dl = 0;
        q->method = xstrndup(text, (size_t)(sp - text));
        q->raw_path = xstrndup(target, plen);
        q->query = qm ? xstrndup(qm + 1, (size_t)(end - qm - 1)) : xstrdup("");
        if (serve_url_decode(target, plen, false, &q->path, &dl) < 0 || strlen(q->path) != dl) {
                fuzz_fn_req_free(q);
                return -1;
        }
        size_t blen = nl ? len - ll - 1 : 0;
        q->body = fuzz_strndup((const uint8_t *)(nl ? nl + 1 : text + len), blen);
        fuzz_req_init(&q->r, q->method, q->path, q->raw_path, q->query, q->body, blen);
        return 0;
}

void fuzz_fn_req_free(fuzz_fn_req *q)
{
        free(q->method);
        free(q->raw_path);
        free(q->path);
        free(q->query);
        free(q->body);
        memset(q, 0, sizeof(*q));
}

void fuzz_fn_trace(const fuzz_fn_req *q, const serve_resp *w)
{
        static int verbose = -1;
        if (verbose < 0)
                verbose = getenv("HUSK_FUZZ_VERBOSE") != NULL;
        if (verbose)
                fprintf(stderr, "%s %s%s%s -> %u %.300s\n", q->method, q->raw_path,
                        *q->query ? "?" : "", q->query, w->status, w->body ? w->body : "");
}

void fuzz_fn_check(const char *what, const serve_resp *w)
{
        if (w->status < 200 || w->status > 599)
                fuzz_fail("%s: status %u", what, w->status);
        if (w->status == 204) {
                if (w->len)
                        fuzz_fail("%s: 204 with a body: %s", what, w->body);
                return;
        }
        const char *ct = fuzz_resp_header(w, "Content-Type");
        if (!w->body || !ct || strcmp(ct, "application/json") != 0)
                fuzz_fail("%s: %u without a JSON body (Content-Type %s)", what, w->status,
                          ct ? ct : "(none)");
        json_value *v = fuzz_json_object(what, w->body, w->len);
        if (w->status >= 400) {
                const char *et = fuzz_resp_header(w, "x-amzn-ErrorType");
                const char *type = json_get_str(v, "Type");
                if (!et || !*et)
                        fuzz_fail("%s: error %u without x-amzn-ErrorType: %s", what, w->status,
                                  w->body);
                if (!type || (!json_get_str(v, "message") && !json_get_str(v, "Message")))
                        fuzz_fail("%s: error without Type and message: %s", what, w->body);
                if (strcmp(type, w->status >= 500 ? "Service" : "User") != 0)
                        fuzz_fail("%s: error %u of Type %s", what, w->status, type);
        }
        json_value_free(v);
}
