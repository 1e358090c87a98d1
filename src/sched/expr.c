/* SPDX-License-Identifier: Apache-2.0 */
/* Schedule expressions, as EventBridge Scheduler reads them:
 *   rate(N minute|minutes|hour|hours|day|days)   every N units from the schedule's anchor
 *   cron(min hour day-of-month month day-of-week year)   in the schedule's time zone: lists
 *       (a,b), ranges (a-b), steps (a/n, * /n, a-b/n), * ; names JAN-DEC and SUN-SAT (1 = SUN);
 *       exactly one of day-of-month and day-of-week is '?'; day-of-month L (last day), LW (last
 *       weekday), nW (the weekday nearest day n, within the month); day-of-week L (Saturday),
 *       nL (the last day n of the month), d#n (the n-th day d); years 1970-2199
 *   at(yyyy-mm-ddThh:mm:ss)   once, that wall time in the schedule's time zone
 * Wall times that do not exist (spring forward) fire at the end of the gap; wall times that
 * happen twice (fall back) fire at their first occurrence. */
#include "sint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { E_RATE = 1, E_CRON, E_AT } ekind;

typedef struct cron {
        uint64_t min;
        uint32_t hour, dom;
        uint16_t month;
        uint8_t dow;      /* bits 1..7, 1 = Sunday */
        uint64_t year[4]; /* 1970 + bit */
        bool dom_q, dow_q;
        bool dom_last, dom_lw;
        int dom_w;    /* nW: n */
        int dow_last; /* nL: n (1..7) */
        int nth_day, nth; /* d#n */
} cron;

struct sched_expr {
        ekind kind;
        int64_t period_ms; /* rate */
        int64_t at_ms;     /* at */
        cron c;
        sched_tz *tz;
};

void sched_expr_free(sched_expr *e)
{
        if (!e)
                return;
        sched_tz_free(e->tz);
        free(e);
}

bool sched_expr_is_at(const sched_expr *e)
{
        return e && e->kind == E_AT;
}

static const char *const months[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const day_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };

/* A number or (names != NULL) a name; names[i] is value i + 1. */
static int atom(const char **s, const char *const *names, int n_names, int *ret)
{
        const char *p = *s;
        if (isdigit((unsigned char)*p)) {
                long v = 0;
                while (isdigit((unsigned char)*p) && v < 100000)
                        v = v * 10 + (*p++ - '0');
                *ret = (int)v;
                *s = p;
                return 0;
        }
        for (int i = 0; names && i < n_names; i++)
                if (strncasecmp(p, names[i], 3) == 0) {
                        *ret = i + 1;
                        *s = p + 3;
                        return 0;
                }
        return -1;
}

/* One field of lists, ranges, steps and * into bits (bit v for value v; year: v - 1970). */
static int field(const char *s, int lo, int hi, const char *const *names, int n_names,
                 uint64_t *bits, int words)
{
        memset(bits, 0, sizeof(uint64_t) * (size_t)words);
        for (;;) {
                int a, b, step = 1;
                bool star = *s == '*';
                if (star) {
                        a = lo, b = hi;
                        s++;
                } else {
                        if (atom(&s, names, n_names, &a) < 0)
                                return -1;
                        b = a;
                        if (*s == '-') {
                                s++;
                                if (atom(&s, names, n_names, &b) < 0)
                                        return -1;
                        }
                }
                if (*s == '/') {
                        s++;
                        if (atom(&s, NULL, 0, &step) < 0 || step < 1)
                                return -1;
                        if (a == b && !star)
                                b = hi; /* "5/15": from 5 to the end */
                }
                if (a < lo || b > hi || a > b)
                        return -1;
                for (int v = a; v <= b; v += step) {
                        int bit = v - (lo >= 1970 ? 1970 : 0);
                        bits[bit / 64] |= 1ull << (bit % 64);
                }
                if (*s == ',') {
                        s++;
                        continue;
                }
                return *s ? -1 : 0;
        }
}

static int parse_dom(const char *s, cron *c)
{
        uint64_t b;
        if (strcmp(s, "?") == 0)
                c->dom_q = true;
        else if (strcasecmp(s, "L") == 0)
                c->dom_last = true;
        else if (strcasecmp(s, "LW") == 0)
                c->dom_lw = true;
        else if (isdigit((unsigned char)s[0]) && (s[strlen(s) - 1] == 'W' || s[strlen(s) - 1] == 'w')) {
                char *end;
                long n = strtol(s, &end, 10);
                if (n < 1 || n > 31 || (*end != 'W' && *end != 'w') || end[1])
                        return -1;
                c->dom_w = (int)n;
        } else if (field(s, 1, 31, NULL, 0, &b, 1) < 0)
                return -1;
        else
                c->dom = (uint32_t)b;
        return 0;
}

static int parse_dow(const char *s, cron *c)
{
        uint64_t b;
        const char *p = s;
        int d, n;
        if (strcmp(s, "?") == 0)
                c->dow_q = true;
        else if (strcasecmp(s, "L") == 0)
                c->dow = 1u << 7;
        else if (strchr(s, '#')) {
                if (atom(&p, day_names, 7, &d) < 0 || *p != '#' || d < 1 || d > 7)
                        return -1;
                p++;
                if (atom(&p, NULL, 0, &n) < 0 || *p || n < 1 || n > 5)
                        return -1;
                c->nth_day = d, c->nth = n;
        } else if (strlen(s) >= 2 && (s[strlen(s) - 1] == 'L' || s[strlen(s) - 1] == 'l') &&
                   atom(&p, day_names, 7, &d) == 0 && p == s + strlen(s) - 1) {
                if (d < 1 || d > 7)
                        return -1;
                c->dow_last = d;
        } else if (field(s, 1, 7, day_names, 7, &b, 1) < 0)
                return -1;
        else
                c->dow = (uint8_t)b;
        return 0;
}

static int parse_cron(const char *body, cron *c, char *why, size_t why_len)
{
        char buf[SCHED_EXPRESSION_MAX + 1], *f[7];
        int n = 0;
        snprintf(buf, sizeof(buf), "%s", body);
        for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                if (n == 6) {
                        n++;
                        break;
                }
                f[n++] = t;
        }
        if (n != 6) {
                snprintf(why, why_len, "cron() takes six fields (minutes hours day-of-month "
                         "month day-of-week year), not %d", n);
                return -1;
        }
        uint64_t b;
        static const char *const names[] = { "minutes", "hours", "day-of-month", "month",
                                             "day-of-week", "year" };
        int bad = -1;
        if (field(f[0], 0, 59, NULL, 0, &c->min, 1) < 0)
                bad = 0;
        else if (field(f[1], 0, 23, NULL, 0, &b, 1) < 0)
                bad = 1;
        else if ((c->hour = (uint32_t)b, parse_dom(f[2], c)) < 0)
                bad = 2;
        else if (field(f[3], 1, 12, months, 12, &b, 1) < 0)
                bad = 3;
        else if ((c->month = (uint16_t)b, parse_dow(f[4], c)) < 0)
                bad = 4;
        else if (field(f[5], 1970, 2199, NULL, 0, c->year, 4) < 0)
                bad = 5;
        if (bad >= 0) {
                snprintf(why, why_len, "cron(): invalid %s field '%s'", names[bad], f[bad]);
                return -1;
        }
        if (c->dom_q == c->dow_q) {
                snprintf(why, why_len, "cron(): exactly one of day-of-month and day-of-week "
                         "must be '?'");
                return -1;
        }
        return 0;
}

static int parse_rate(const char *body, sched_expr *e, char *why, size_t why_len)
{
        char unit[16] = "";
        long v = 0;
        int used = 0;
        if (sscanf(body, "%ld %15[a-z]%n", &v, unit, &used) != 2 || body[used] || v < 1 ||
            v > 1000000) {
                snprintf(why, why_len, "rate(): 'rate(VALUE UNIT)' with VALUE a positive whole "
                         "number and UNIT minute(s), hour(s) or day(s)");
                return -1;
        }
        int64_t ms = strncmp(unit, "minute", 6) == 0 ? 60000
                     : strncmp(unit, "hour", 4) == 0 ? 3600000
                     : strncmp(unit, "day", 3) == 0  ? 86400000
                                                     : 0;
        size_t ul = strlen(unit);
        if (!ms || !(strcmp(unit, "minute") == 0 || strcmp(unit, "minutes") == 0 ||
                     strcmp(unit, "hour") == 0 || strcmp(unit, "hours") == 0 ||
                     strcmp(unit, "day") == 0 || strcmp(unit, "days") == 0) ||
            ul == 0) {
                snprintf(why, why_len, "rate(): unknown unit '%s' (minute(s), hour(s), day(s))",
                         unit);
                return -1;
        }
        e->period_ms = v * ms;
        return 0;
}

static int parse_at(const char *body, sched_expr *e, char *why, size_t why_len)
{
        int y, mo, d, h, mi, s, used = 0;
        if (strlen(body) != 19 ||
            sscanf(body, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
            used != 19 || y < 1970 || y > 2199 || mo < 1 || mo > 12 || d < 1 || h > 23 ||
            mi > 59 || s > 59) {
                snprintf(why, why_len, "at(): 'at(yyyy-mm-ddThh:mm:ss)'");
                return -1;
        }
        static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool lp = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (d > mdays[mo - 1] + (mo == 2 && lp)) {
                snprintf(why, why_len, "at(): %04d-%02d has no day %d", y, mo, d);
                return -1;
        }
        int64_t local = sched_days_of(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
        e->at_ms = sched_tz_from_local(e->tz, local) * 1000;
        return 0;
}

int sched_expr_parse(const char *text, const char *tz, sched_expr **ret, char *why,
                     size_t why_len)
{
        *ret = NULL;
        size_t len = text ? strlen(text) : 0;
        if (len < 4 || len > SCHED_EXPRESSION_MAX || text[len - 1] != ')') {
                snprintf(why, why_len, "Invalid Schedule Expression: rate(...), cron(...) or "
                         "at(...), at most %d characters", SCHED_EXPRESSION_MAX);
                return -1;
        }
        sched_expr *e = calloc(1, sizeof(*e));
        if (!e) {
                snprintf(why, why_len, "out of memory");
                return -1;
        }
        if (sched_tz_load(tz, &e->tz, why, why_len) < 0) {
                free(e);
                return -1;
        }
        char body[SCHED_EXPRESSION_MAX + 1];
        int r;
        char w[300] = "";
        if (strncmp(text, "rate(", 5) == 0) {
                snprintf(body, sizeof(body), "%.*s", (int)(len - 6), text + 5);
                e->kind = E_RATE;
                r = parse_rate(body, e, w, sizeof(w));
        } else if (strncmp(text, "cron(", 5) == 0) {
                snprintf(body, sizeof(body), "%.*s", (int)(len - 6), text + 5);
                e->kind = E_CRON;
                r = parse_cron(body, &e->c, w, sizeof(w));
        } else if (strncmp(text, "at(", 3) == 0) {
                snprintf(body, sizeof(body), "%.*s", (int)(len - 4), text + 3);
                e->kind = E_AT;
                r = parse_at(body, e, w, sizeof(w));
        } else {
                snprintf(w, sizeof(w), "rate(...), cron(...) or at(...)");
                r = -1;
        }
        if (r < 0) {
                snprintf(why, why_len, "Invalid Schedule Expression %s: %s", text, w);
                sched_expr_free(e);
                return -1;
        }
        *ret = e;
        return 0;
}

static int dim_of(int64_t y, int m)
{
        static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* 1 = Sunday .. 7 = Saturday. */
static int wday_of(int64_t days)
{
        return (int)(((days + 4) % 7 + 7) % 7) + 1;
}

static bool day_matches(const cron *c, int64_t y, int m, int d, int64_t days)
{
        if (!(c->year[(y - 1970) / 64] >> ((y - 1970) % 64) & 1) || !(c->month >> m & 1))
                return false;
        int dim = dim_of(y, m), wd = wday_of(days);
        if (c->dow_q) {
                if (c->dom_last)
                        return d == dim;
                if (c->dom_lw || c->dom_w) {
                        int t = c->dom_lw ? dim : c->dom_w;
                        if (t > dim)
                                return false;
                        int twd = wday_of(days - d + t);
                        if (twd == 7) /* Saturday: Friday, or Monday at the month's start */
                                t = t == 1 ? 3 : t - 1;
                        else if (twd == 1) /* Sunday: Monday, or Friday at the month's end */
                                t = t == dim ? t - 2 : t + 1;
                        return d == t;
                }
                return c->dom >> d & 1;
        }
        if (c->dow_last)
                return wd == c->dow_last && d + 7 > dim;
        if (c->nth)
                return wd == c->nth_day && (d - 1) / 7 + 1 == c->nth;
        return c->dow >> wd & 1;
}

static int64_t cron_next(const sched_expr *e, int64_t after_ms)
{
        const cron *c = &e->c;
        /* No cron() slot is before 1970-01-01 local, less than two days before the epoch in any
         * zone: an earlier after_ms finds the same slot from there, and the arithmetic below
         * (a negation, the day loop from after's day) stays bounded. */
        if (after_ms < -2 * 86400000LL)
                after_ms = -2 * 86400000LL;
        int64_t after = after_ms >= 0 ? after_ms / 1000 : -((-after_ms + 999) / 1000);
        int64_t local = after + sched_tz_offset(e->tz, after);
        int64_t day = local / 86400 - (local % 86400 < 0);
        /* A day before too: a wall time of the previous local day may map after `after` (a
         * time zone whose offset grew). The bound: the last year cron() allows. */
        int64_t last = sched_days_of(2200, 1, 1);
        for (int64_t dd = day - 1; dd < last; dd++) {
                int64_t y;
                int m, d;
                sched_civil_of(dd, &y, &m, &d);
                if (y < 1970 || !day_matches(c, y, m, d, dd))
                        continue;
                for (int h = 0; h < 24; h++) {
                        if (!(c->hour >> h & 1))
                                continue;
                        for (int mi = 0; mi < 60; mi++) {
                                if (!(c->min >> mi & 1))
                                        continue;
                                int64_t t = sched_tz_from_local(e->tz, dd * 86400 + h * 3600 + mi * 60);
                                if (t > after)
                                        return t * 1000;
                        }
                }
        }
        return SCHED_NO_TIME;
}

int64_t sched_expr_next(const sched_expr *e, int64_t anchor_ms, int64_t after_ms)
{
        switch (e->kind) {
        case E_RATE: {
                if (after_ms < anchor_ms)
                        return anchor_ms;
                /* In uint64: after - anchor is exact (after >= anchor), and a slot past
                 * INT64_MAX is none rather than an overflow. */
                uint64_t p = (uint64_t)e->period_ms;
                uint64_t k = ((uint64_t)after_ms - (uint64_t)anchor_ms) / p + 1, off;
                if (__builtin_mul_overflow(k, p, &off) ||
                    off > (uint64_t)INT64_MAX - (uint64_t)anchor_ms)
                        return SCHED_NO_TIME;
                return (int64_t)((uint64_t)anchor_ms + off);
        }
        case E_AT:
                return e->at_ms > after_ms ? e->at_ms : SCHED_NO_TIME;
        case E_CRON:
                return cron_next(e, after_ms);
        }
        return SCHED_NO_TIME;
}
