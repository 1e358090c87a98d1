/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics: the metrics registry (src/metrics) in the Prometheus text exposition format
 * 0.0.4, read unsigned as Prometheus scrapes (the front door skips the signature for this path
 * only). What it shows is names and counts: function, queue, route and schedule names with
 * their figures, nothing of payloads or keys. */
#include "prom.h"
#include "serve.h"
#include "metrics/metrics.h"
#include "util/util.h"

#include <math.h> /* isnan, isinf: macros */
#include <stdio.h>
#include <string.h>

void prom_format_double(double v, char out[32])
{
        if (isnan(v)) {
                snprintf(out, 32, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(out, 32, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
                snprintf(out, 32, "%.0f", v);
                return;
        }
        /* %g drops trailing zeros: when 15 digits read back the same, the text is already the
         * shortest that does; else 16, else 17 (always enough for a double). */
        for (int p = 15; p <= 17; p++) {
                snprintf(out, 32, "%.*g", p, v);
                if (strtod(out, NULL) == v)
                        return;
        }
}

static const char *type_name(hm_type t)
{
        switch (t) {
        case HM_COUNTER: return "counter";
        case HM_GAUGE: return "gauge";
        case HM_SUMMARY: return "summary";
        default: return "untyped";
        }
}

/* HELP text: only backslash and newline are escaped. */
static void put_help(FILE *f, const char *family, const char *help)
{
        fprintf(f, "# HELP %s ", family);
        for (const char *p = help; *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", f);
                else if (*p == '\n')
                        fputs("\\n", f);
                else
                        fputc(*p, f);
        }
        fputc('\n', f);
}

typedef struct render {
        FILE *f;
        const char *family; /* the family being written */
        hm_type type;
        FILE *max;  /* a summary family's _max lines, written after it */
        char *maxbuf;
        size_t maxlen;
} render;

/* name{labels[,extra]} value */
static void put_sample(FILE *f, const char *name, const char *suffix, const char *labels,
                       const char *extra, double v)
{
        char num[32];
        prom_format_double(v, num);
        fprintf(f, "%s%s", name, suffix);
        if (*labels || extra)
                fprintf(f, "{%s%s%s}", labels, *labels && extra ? "," : "", extra ? extra : "");
        fprintf(f, " %s\n", num);
}

static void end_family(render *r)
{
        if (!r->max)
                return;
        fclose(r->max);
        r->max = NULL;
        fprintf(r->f, "# HELP %s_max The largest of the newest %d observations of %s\n", r->family,
                HM_SUMMARY_WINDOW, r->family);
        fprintf(r->f, "# TYPE %s_max gauge\n", r->family);
        fwrite(r->maxbuf, 1, r->maxlen, r->f);
        free(r->maxbuf);
        r->maxbuf = NULL;
}

static void one(const hm_sample *s, void *ud)
{
        render *r = ud;
        if (!r->family || strcmp(r->family, s->family) != 0) {
                end_family(r);
                r->family = s->family; /* families live as long as the process */
                r->type = s->type;
                put_help(r->f, s->family, s->help ? s->help : s->family);
                fprintf(r->f, "# TYPE %s %s\n", s->family, type_name(s->type));
                if (s->type == HM_SUMMARY) {
                        r->max = open_memstream(&r->maxbuf, &r->maxlen);
                        if (!r->max)
                                abort(); /* out of memory */
                }
        }
        if (r->type != HM_SUMMARY) {
                put_sample(r->f, s->family, "", s->labels, NULL, s->value);
                return;
        }
        put_sample(r->f, s->family, "", s->labels, "quantile=\"0.5\"", s->p50);
        put_sample(r->f, s->family, "", s->labels, "quantile=\"0.99\"", s->p99);
        put_sample(r->f, s->family, "_sum", s->labels, NULL, s->sum);
        put_sample(r->f, s->family, "_count", s->labels, NULL, s->value);
        put_sample(r->max, s->family, "_max", s->labels, NULL, s->max);
}

char *prom_render(size_t *ret_len)
{
        char *buf = NULL;
        size_t len = 0;
        render r = { .f = open_memstream(&buf, &len) };
        if (!r.f)
                abort(); /* out of memory */
        hm_foreach(one, &r);
        end_family(&r);
        fclose(r.f);
        *ret_len = len;
        return buf;
}

void prom_handle(const serve_req *r, serve_resp *w)
{
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
                char *m = xstrdup("/metrics takes GET or HEAD\n");
                serve_resp_set(w, 405, "text/plain; charset=utf-8", m, strlen(m));
                serve_resp_header(w, "Allow", "GET, HEAD");
                return;
        }
        size_t len = 0;
        char *body = prom_render(&len);
        /* HEAD: libmicrohttpd sends the headers (Content-Length included) without the body. */
        serve_resp_set(w, 200, PROM_CONTENT_TYPE, body, len);
        serve_resp_header(w, "Cache-Control", "no-store");
}
