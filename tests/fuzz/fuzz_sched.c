/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: EventBridge Scheduler (issue 17): the control plane (src/serve/scheduler.c,
 * scheduler_handle) over a real engine and store (src/sched) in the harness's private folder,
 * and the schedule expressions and time zones (src/sched/expr.c, tz.c). The input's first byte
 * picks the mode (a '\n' after it is skipped too):
 *
 * 'x': expression mode. Line 1 the expression, line 2 (optional) a time zone name, line 3
 *   (optional) a time (epoch ms) added to the fixed ones. sched_expr_parse(text, tz); when it
 *   parses, sched_expr_next over a few anchors and after values (INT64 edges among them): each
 *   result is none (SCHED_NO_TIME) or later than its after, and stepping from it moves forward
 *   (a few steps, bounded); at() fires once. The name alone goes to sched_tz_load: one with
 *   ".." or a leading '/' is refused, and a zone that loads is a file reached beneath
 *   /usr/share/zoneinfo (openat2 RESOLVE_BENEATH: no symlink through /etc) whose real path is
 *   inside; sched_tz_offset and
 *   sched_tz_from_local over edge times (UBSan reports an overflow) give sane offsets, and a
 *   wall time of 1970..2200 maps to an instant whose wall time is it (or the end of its gap).
 *
 * anything else: API mode. Up to 8 requests separated by the line "----" (fuzz.h), each
 *   "METHOD RAW_PATH[?QUERY]" on its first line (the path as sent: it is percent-decoded as
 *   the listener does) and its JSON body after, handled one after the other so that a create is
 *   followed by the reads, updates, tags and deletes of what it made.
 *   Invariants of every answer: a status from 200 to 599, a body that is one JSON object in
 *   valid UTF-8 with Content-Type application/json; an error (>= 400) has its x-amzn-ErrorType
 *   and a Message. After each input every stored schedule (ListSchedules, page by page) reads
 *   back (GetSchedule answers 200) and its expression parses again in its time zone; every
 *   group reads back with its tags.
 *   Each input starts from the same state: the groups "default" and "team" (tag owner=ops) and
 *   one schedule default/tick (rate(1 minute), a Lambda target), made again (everything else
 *   removed) after an input that changed anything, so that a crash replays alone. The engine's
 *   clock is fixed (2030-01-01T00:00:00Z); its runner thread is never started and no target is
 *   ever called. HUSK_FUZZ_VERBOSE=1 prints each request and its answer.
 *
 * Corpus (tests/fuzz/corpus/sched): requests of aws 2.9.19 (`aws scheduler ...` as
 * tests/integration/scheduler.sh runs them) recorded through a capturing listener, hostile ones
 * written by hand, and expressions in several time zones. */
#include "fuzz.h"

#include "sched/sint.h"
#include "serve/serve.h"
#include "util/json.h"
#include "util/openat2.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define FZ_NOW_MS 1893456000000LL /* 2030-01-01T00:00:00Z */
#define FZ_ROLE "arn:aws:iam::000000000000:role/husk"
#define FZ_FN "arn:aws:lambda:us-east-1:000000000000:function:ftick"
#define FZ_MAX_PAGES 200

static sched_engine *S;
static char *baseline; /* the state's fingerprint after the baseline was made */
static bool verbose;

static uint64_t fixed_clock(void *ctx)
{
        (void)ctx;
        return (uint64_t)FZ_NOW_MS;
}

/* No target is ever called (the runner does not run); these only fill the table. */
static int no_invoke(void *ud, const char *function, const char *input, size_t len, char *why,
                     size_t why_len)
{
        (void)ud, (void)function, (void)input, (void)len;
        snprintf(why, why_len, "the fuzz harness calls no target");
        return -1;
}

static int no_send(void *ud, const char *queue_arn, const char *body, size_t len,
                   const sched_attr *attrs, size_t n_attrs, char *why, size_t why_len)
{
        (void)ud, (void)queue_arn, (void)body, (void)len, (void)attrs, (void)n_attrs;
        snprintf(why, why_len, "the fuzz harness calls no target");
        return -1;
}

static void check(const char *line, const serve_resp *w)
{
        if (w->status < 200 || w->status > 599)
                fuzz_fail("%s: status %u", line, w->status);
        if (!w->body)
                fuzz_fail("%s: no body", line);
        const char *ct = fuzz_resp_header(w, "Content-Type");
        if (!ct || strcmp(ct, "application/json") != 0)
                fuzz_fail("%s: Content-Type %s", line, ct ? ct : "(none)");
        json_value *v = fuzz_json_object(line, w->body, w->len);
        if (w->status >= 400 && (!fuzz_resp_header(w, "x-amzn-ErrorType") ||
                                 (!json_get_str(v, "Message") && !json_get_str(v, "message"))))
                fuzz_fail("%s: error without x-amzn-ErrorType and Message: %s", line, w->body);
        json_value_free(v);
}

/* One request through the adapter; its answer checked, returned (serve_resp_free it). */
static void call(const char *method, const char *raw, serve_resp *w, const char *body,
                 size_t blen)
{
        char *q = strchr(raw, '?');
        char *rawpath = q ? xstrndup(raw, (size_t)(q - raw)) : xstrdup(raw);
        char *path = NULL;
        size_t plen;
        if (serve_url_decode(rawpath, strlen(rawpath), false, &path, &plen) < 0)
                path = xstrdup(rawpath);
        serve_req r;
        fuzz_req_init(&r, method, path, rawpath, q ? q + 1 : "", body, blen);
        memset(w, 0, sizeof(*w));
        scheduler_handle(S, &r, w);
        if (verbose)
                fprintf(stderr, "%s %s -> %u %.*s\n", method, raw, w->status,
                        w->body ? (int)w->len : 0, w->body ? w->body : "");
        char *what = xasprintf("%s %s", method, raw);
        check(what, w);
        free(what);
        free(path);
        free(rawpath);
}

/* fp (allocated, may be NULL) with s and a newline appended. */
static char *append(char *fp, const char *s, size_t len)
{
        char *n = xasprintf("%s%.*s\n", fp ? fp : "", (int)len, s);
        free(fp);
        return n;
}

/* A read the harness makes: it must answer 200. Its JSON object (json_value_free it); the
 * answer is appended to *fp. */
static json_value *must_read(const char *raw, char **fp)
{
        serve_resp w;
        call("GET", raw, &w, "", 0);
        if (w.status != 200)
                fuzz_fail("GET %s: %u %.*s", raw, w.status, (int)w.len, w.body);
        json_value *v = fuzz_json_object(raw, w.body, w.len);
        *fp = append(*fp, w.body, w.len);
        serve_resp_free(&w);
        return v;
}

/* PATH, or PATH?KEY=NEXT (NEXT percent-encoded) when next is not NULL (allocated). */
static char *page_path(const char *path, const char *key, const char *next)
{
        if (!next)
                return xstrdup(path);
        char *e = serve_url_encode(next, strlen(next), false);
        char *r = xasprintf("%s?%s=%s", path, key, e);
        free(e);
        return r;
}

/* Every group (with its tags) and every schedule read back through the adapter, each stored
 * schedule's expression parsed again: the state's fingerprint (allocated). */
static char *verify(void)
{
        char *fp = NULL, *next = NULL;
        int pages = 0;
        do {
                char *raw = page_path("/schedule-groups", "NextToken", next);
                json_value *v = must_read(raw, &fp);
                free(raw);
                free(next);
                next = json_get_str(v, "NextToken") ? xstrdup(json_get_str(v, "NextToken")) : NULL;
                const json_value *g = json_get(v, "ScheduleGroups");
                if (!g || g->type != JSON_ARRAY)
                        fuzz_fail("ListScheduleGroups without ScheduleGroups");
                for (size_t i = 0; i < g->n; i++) {
                        const char *arn = json_get_str(g->items[i], "Arn");
                        if (!arn)
                                fuzz_fail("ListScheduleGroups: a group without its Arn");
                        char *t = xasprintf("/tags/%s", arn);
                        json_value_free(must_read(t, &fp));
                        free(t);
                }
                json_value_free(v);
                if (++pages > FZ_MAX_PAGES)
                        fuzz_fail("ListScheduleGroups: more than %d pages", FZ_MAX_PAGES);
        } while (next);
        pages = 0;
        do {
                char *raw = page_path("/schedules", "NextToken", next);
                json_value *v = must_read(raw, &fp);
                free(raw);
                free(next);
                next = json_get_str(v, "NextToken") ? xstrdup(json_get_str(v, "NextToken")) : NULL;
                const json_value *l = json_get(v, "Schedules");
                if (!l || l->type != JSON_ARRAY)
                        fuzz_fail("ListSchedules without Schedules");
                for (size_t i = 0; i < l->n; i++) {
                        const char *name = json_get_str(l->items[i], "Name"),
                                   *group = json_get_str(l->items[i], "GroupName");
                        if (!name || !group)
                                fuzz_fail("ListSchedules: a schedule without Name and GroupName");
                        char *en = serve_url_encode(name, strlen(name), false),
                             *eg = serve_url_encode(group, strlen(group), false);
                        char *raw1 = xasprintf("/schedules/%s?groupName=%s", en, eg);
                        json_value_free(must_read(raw1, &fp));
                        free(raw1);
                        free(en);
                        free(eg);
                        sched_def d = { 0 };
                        sched_error err = { 0 };
                        if (sched_get(S, group, name, &d, &err) < 0)
                                fuzz_fail("sched_get %s/%s: %s", group, name, err.msg);
                        sched_expr *e = NULL;
                        char why[512];
                        if (sched_expr_parse(d.expression, d.timezone, &e, why, sizeof(why)) < 0)
                                fuzz_fail("stored schedule %s/%s: %s", group, name, why);
                        sched_expr_free(e);
                        sched_def_clear(&d);
                }
                json_value_free(v);
                if (++pages > FZ_MAX_PAGES)
                        fuzz_fail("ListSchedules: more than %d pages", FZ_MAX_PAGES);
        } while (next);
        return fp;
}

/* Everything but the default group removed, then the group "team" and the schedule
 * default/tick made. */
static void make_baseline(void)
{
        sched_error err = { 0 };
        sched_group *g = NULL;
        size_t n = 0;
        char *next = NULL;
        do {
                char *tok = next;
                if (sched_group_list(S, NULL, 100, tok, &g, &n, &next, &err) < 0)
                        fuzz_fail("sched_group_list: %s", err.msg);
                free(tok);
                for (size_t i = 0; i < n; i++)
                        if (strcmp(g[i].name, "default") != 0 &&
                            sched_group_delete(S, g[i].name, &err) < 0)
                                fuzz_fail("sched_group_delete %s: %s", g[i].name, err.msg);
                free(g);
        } while (next);
        sched_def *d = NULL;
        sched_list_req lr = { .group = "default" };
        do {
                lr.next_token = next;
                if (sched_list(S, &lr, &d, &n, &next, &err) < 0)
                        fuzz_fail("sched_list: %s", err.msg);
                free((char *)lr.next_token);
                for (size_t i = 0; i < n; i++)
                        if (sched_delete(S, d[i].group, d[i].name, &err) < 0)
                                fuzz_fail("sched_delete %s: %s", d[i].name, err.msg);
                sched_defs_free(d, n);
        } while (next);
        sched_tag tag = { .key = (char *)"owner", .value = (char *)"ops" };
        if (sched_group_create(S, "team", &tag, 1, &err) < 0)
                fuzz_fail("sched_group_create team: %s", err.msg);
        sched_def t = { .group = "default", .name = "tick", .expression = (char *)"rate(1 minute)",
                        .target_arn = (char *)FZ_FN, .role_arn = (char *)FZ_ROLE,
                        .input = (char *)"{\"tick\":1}", .enabled = true, .max_age_s = 86400,
                        .max_retries = 185, .start_ms = SCHED_NO_TIME, .end_ms = SCHED_NO_TIME };
        if (sched_put(S, &t, true, &err) < 0)
                fuzz_fail("sched_put tick: %s", err.msg);
}

static void init(void)
{
        if (S)
                return;
        verbose = getenv("HUSK_FUZZ_VERBOSE") && *getenv("HUSK_FUZZ_VERBOSE");
        char *path = xasprintf("%s/sched.db", fuzz_root());
        sched_opts o = { .path = path, .region = "us-east-1", .account = "000000000000",
                         .targets = { .invoke = no_invoke, .send = no_send },
                         .clock = fixed_clock };
        char why[512];
        /* The runner thread is not started (sched_start): nothing fires. */
        if (sched_open(&o, &S, why, sizeof(why)) < 0)
                fuzz_fail("sched_open %s: %s", path, why);
        free(path);
        make_baseline();
        baseline = verify();
}

static void api_mode(const uint8_t *data, size_t size)
{
        init();
        fuzz_parts in;
        fuzz_split(data, size, &in);
        for (size_t i = 0; i < in.n; i++) {
                char *line, *body;
                size_t blen, ll = fuzz_split_line((const uint8_t *)in.part[i], in.len[i], &line,
                                                  &body, &blen);
                char *sp = strchr(line, ' ');
                if (sp && strlen(line) == ll) {
                        *sp = '\0';
                        serve_resp w;
                        call(line, sp + 1, &w, body, blen);
                        serve_resp_free(&w);
                }
                free(line);
                free(body);
        }
        fuzz_parts_free(&in);
        char *fp = verify();
        if (strcmp(fp, baseline) != 0) {
                free(fp);
                make_baseline();
                fp = verify();
                if (strcmp(fp, baseline) != 0)
                        fuzz_fail("the baseline made again differs:\n%s\nwas:\n%s", fp, baseline);
        }
        free(fp);
}

/* ---- expression mode ---- */

static const int64_t edges_ms[] = { INT64_MIN, INT64_MIN + 1, -31536000000000LL, -86400001, -1, 0,
                                    1, FZ_NOW_MS, 4102444800000LL, 7258118400000LL,
                                    INT64_MAX / 2, INT64_MAX - 1, INT64_MAX };
static const int64_t edges_s[] = { INT64_MIN, INT64_MIN + 1, -(1LL << 59), -2208988800LL, -1, 0,
                                   1, 1893456000, 1901150000, 1919400000, 2147483647, 2147483648LL,
                                   7258118399LL, 1LL << 40, INT64_MAX - 86400, INT64_MAX - 1,
                                   INT64_MAX };

static void steps(const sched_expr *e, const char *text, int64_t anchor, int64_t after)
{
        int64_t t = sched_expr_next(e, anchor, after);
        if (t != SCHED_NO_TIME && t <= after)
                fuzz_fail("%s: next(anchor %lld, after %lld) = %lld, not later", text,
                          (long long)anchor, (long long)after, (long long)t);
        for (int k = 0; k < 4 && t != SCHED_NO_TIME; k++) {
                int64_t t2 = sched_expr_next(e, anchor, t);
                if (t2 != SCHED_NO_TIME && sched_expr_is_at(e))
                        fuzz_fail("%s: at() fires again at %lld after %lld", text, (long long)t2,
                                  (long long)t);
                if (t2 != SCHED_NO_TIME && t2 <= t)
                        fuzz_fail("%s: next(anchor %lld, after %lld) = %lld, not later", text,
                                  (long long)anchor, (long long)t, (long long)t2);
                t = t2;
        }
}

static void expr_checks(const char *text, const char *tz, bool have_t, int64_t t_in)
{
        sched_expr *e = NULL;
        char why[512];
        if (sched_expr_parse(text, tz, &e, why, sizeof(why)) < 0)
                return;
        static const int64_t anchors[] = { INT64_MIN, 0, FZ_NOW_MS, INT64_MAX };
        for (size_t a = 0; a < ARRAY_SIZE(anchors); a++) {
                for (size_t i = 0; i < ARRAY_SIZE(edges_ms); i++)
                        steps(e, text, anchors[a], edges_ms[i]);
                if (have_t)
                        steps(e, text, anchors[a], t_in);
                if (have_t)
                        steps(e, text, t_in, FZ_NOW_MS);
        }
        sched_expr_free(e);
}

/* A zone that loaded: /usr/share/zoneinfo/NAME is a file inside /usr/share/zoneinfo, reached
 * without leaving it (the kernel's RESOLVE_BENEATH says so where it has openat2: a symlink
 * through /etc is refused), and its real path is inside. */
static void tz_inside(const char *name)
{
        int dfd = open(ZONEINFO, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = dfd < 0 ? -1
                         : util_openat2(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                                        RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        if (fd < 0 && errno != ENOSYS)
                fuzz_fail("time zone '%s' loaded, but it is not a file beneath " ZONEINFO ": %s",
                          name, strerror(errno));
        if (fd >= 0)
                close(fd);
        if (dfd >= 0)
                close(dfd);
        char *base = realpath(ZONEINFO, NULL);
        char *p = xasprintf(ZONEINFO "/%s", name);
        char *r = realpath(p, NULL);
        size_t bl = base ? strlen(base) : 0;
        if (!base || !r || strncmp(r, base, bl) != 0 || r[bl] != '/')
                fuzz_fail("time zone '%s' loaded from %s, outside " ZONEINFO, name,
                          r ? r : "(nowhere)");
        free(base);
        free(p);
        free(r);
}

static void tz_times(const sched_tz *z, const char *name, int64_t t)
{
        int32_t off = sched_tz_offset(z, t);
        if (off < -168 * 3600 || off > 168 * 3600)
                fuzz_fail("tz %s: offset %d at %lld", name, off, (long long)t);
        int64_t u = sched_tz_from_local(z, t);
        /* A wall time cron() or at() can name (1970..2200): the instant found has that wall
         * time, or the one that ends the gap it falls in. */
        if (t >= -86400 && t < 7258118400LL + 86400) {
                int64_t wall = u + sched_tz_offset(z, u);
                if (wall < t || wall - t > 2 * 86400)
                        fuzz_fail("tz %s: from_local(%lld) = %lld, whose wall time is %lld", name,
                                  (long long)t, (long long)u, (long long)wall);
        }
}

static void tz_checks(const char *name, bool have_t, int64_t t_in)
{
        sched_tz *z = NULL;
        char why[512];
        int rc = sched_tz_load(name, &z, why, sizeof(why));
        if (rc == 0 && (strstr(name, "..") || name[0] == '/'))
                fuzz_fail("time zone '%s' was not refused", name);
        if (rc < 0)
                return;
        if (z)
                tz_inside(name);
        for (size_t i = 0; i < ARRAY_SIZE(edges_s); i++)
                tz_times(z, name, edges_s[i]);
        if (have_t)
                tz_times(z, name, t_in);
        sched_tz_free(z);
}

static void expr_mode(const uint8_t *data, size_t size)
{
        /* Line 1 the expression; line 2, when there is one, the time zone (NULL: none given,
         * UTC); line 3 a time. */
        char *text, *rest1, *tz, *rest2, *tline, *rest3;
        size_t l1, l2, l3;
        fuzz_split_line(data, size, &text, &rest1, &l1);
        bool have_tz = memchr(data, '\n', size) != NULL;
        fuzz_split_line((const uint8_t *)rest1, l1, &tz, &rest2, &l2);
        fuzz_split_line((const uint8_t *)rest2, l2, &tline, &rest3, &l3);
        char *end = NULL;
        long long t_in = *tline ? strtoll(tline, &end, 10) : 0;
        bool have_t = end && *end == '\0';
        expr_checks(text, have_tz ? tz : NULL, have_t, t_in);
        if (have_tz)
                tz_checks(tz, have_t, t_in);
        free(text);
        free(rest1);
        free(tz);
        free(rest2);
        free(tline);
        free(rest3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        bool expr = data[0] == 'x';
        data++, size--;
        if (size && data[0] == '\n')
                data++, size--;
        if (expr)
                expr_mode(data, size);
        else
                api_mode(data, size);
        return 0;
}
