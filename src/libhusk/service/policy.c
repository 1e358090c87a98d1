/* SPDX-License-Identifier: Apache-2.0 */
/* The pure rules of detached services: restart policy, back-off, log record format, rotation,
 * --since, sizes, durations and status text. No system state here but the clock in svc_now. */
#include "service/service.h"

#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- restart policy ---- */

int svc_policy_parse(const char *s, svc_policy *ret, husk_error_t *err)
{
        svc_policy p = { .kind = SVC_RESTART_NO };
        if (!s || !s[0] || strcmp(s, "no") == 0) {
                *ret = p;
                return 0;
        }
        if (strcmp(s, "always") == 0 || strcmp(s, "unless-stopped") == 0) {
                p.kind = SVC_RESTART_ALWAYS;
        } else if (strncmp(s, "on-failure", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
                p.kind = SVC_RESTART_ON_FAILURE;
                uint32_t n = 0;
                if (s[10] == ':' && parse_uint32(s + 11, &n) < 0)
                        return husk_error_set(err, EINVAL, "invalid --restart \"%s\": the retry "
                                              "count must be a non-negative number", s);
                p.max = n;
        } else {
                return husk_error_set(err, EINVAL, "invalid --restart \"%s\": use no, "
                                      "on-failure[:N] or always", s);
        }
        *ret = p;
        return 0;
}

const char *svc_policy_name(const svc_policy *p)
{
        switch (p->kind) {
        case SVC_RESTART_ALWAYS:
                return "always";
        case SVC_RESTART_ON_FAILURE:
                return "on-failure";
        default:
                return "no";
        }
}

bool svc_policy_wants_restart(const svc_policy *p, int exit_code, unsigned restarts)
{
        switch (p->kind) {
        case SVC_RESTART_ALWAYS:
                return true;
        case SVC_RESTART_ON_FAILURE:
                return exit_code != 0 && (p->max == 0 || restarts < p->max);
        default:
                return false;
        }
}

uint64_t svc_backoff_next(svc_backoff *b, uint64_t ran_ms)
{
        if (b->next_ms == 0 || ran_ms >= SVC_BACKOFF_RESET_MS)
                b->next_ms = SVC_BACKOFF_MIN_MS;
        uint64_t wait = b->next_ms;
        b->next_ms = wait * 2 > SVC_BACKOFF_MAX_MS ? SVC_BACKOFF_MAX_MS : wait * 2;
        return wait;
}

/* ---- time ---- */

int64_t svc_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void svc_time_format(int64_t ns, char *buf, size_t len)
{
        time_t sec = (time_t)(ns / 1000000000);
        long frac = (long)(ns % 1000000000);
        if (frac < 0) {
                frac += 1000000000;
                sec--;
        }
        struct tm tm;
        gmtime_r(&sec, &tm);
        char base[32];
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, len, "%s.%09ldZ", base, frac);
}

/* n digits at *p into *ret. */
static bool digits(const char **p, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)(*p)[i]))
                        return false;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for years 1..9999). */
static int64_t days_from_civil(int y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static int parse_date(const char **p, int64_t *ret_days)
{
        int y, mo, d;
        if (!digits(p, 4, &y) || *(*p)++ != '-' || !digits(p, 2, &mo) || *(*p)++ != '-' ||
            !digits(p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
                return -EINVAL;
        *ret_days = days_from_civil(y, mo, d);
        return 0;
}

int svc_time_parse(const char *s, int64_t *ret_ns)
{
        const char *p = s;
        int64_t days;
        int h, mi, sec;
        if (parse_date(&p, &days) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
                return -EINVAL;
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
            !digits(&p, 2, &sec) || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        int64_t frac = 0;
        if (*p == '.') {
                p++;
                int n = 0;
                for (; isdigit((unsigned char)*p); p++, n++)
                        if (n < 9)
                                frac = frac * 10 + (*p - '0');
                if (n == 0)
                        return -EINVAL;
                for (; n < 9; n++)
                        frac *= 10;
        }
        int64_t off = 0;
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, oh, om;
                if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
                        return -EINVAL;
                off = sign * (int64_t)(oh * 3600 + om * 60);
        } else {
                return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off, ns;
        /* Nanoseconds in an int64_t reach the years 1677..2262 only (a later date overflowed). */
        if (__builtin_mul_overflow(secs, (int64_t)1000000000, &ns) ||
            __builtin_add_overflow(ns, frac, &ns))
                return -EINVAL;
        *ret_ns = ns;
        return 0;
}

/* "1h30m", "10s", "250ms", "2.5s": Go's time.ParseDuration units h, m, s, ms, us, ns. */
static int parse_duration(const char *s, int64_t *ret_ns)
{
        static const struct {
                const char *unit;
                int64_t ns;
        } units[] = { { "ns", 1 },          { "us", 1000 },         { "ms", 1000000 },
                      { "s", 1000000000 }, { "m", 60000000000LL }, { "h", 3600000000000LL } };
        int64_t total = 0;
        const char *p = s;
        if (!*p)
                return -EINVAL;
        while (*p) {
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                double v = 0;
                for (; isdigit((unsigned char)*p); p++)
                        v = v * 10 + (*p - '0');
                if (*p == '.') {
                        double scale = 0.1;
                        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
                                v += (*p - '0') * scale;
                }
                size_t ul = 0;
                int64_t mult = 0;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t l = strlen(units[i].unit);
                        /* longest match: "ms" before "m" */
                        if (strncmp(p, units[i].unit, l) == 0 && l > ul) {
                                ul = l;
                                mult = units[i].ns;
                        }
                }
                if (!ul || v * (double)mult > 9e18 ||
                    __builtin_add_overflow(total, (int64_t)(v * (double)mult), &total))
                        return -EINVAL;
                p += ul;
        }
        *ret_ns = total;
        return 0;
}

int svc_since_parse(const char *s, int64_t now_ns, int64_t *ret_ns)
{
        int64_t v;
        if (!s || !s[0])
                return -EINVAL;
        if (svc_time_parse(s, &v) == 0) {
                *ret_ns = v;
                return 0;
        }
        const char *p = s;
        int64_t days;
        if (parse_date(&p, &days) == 0 && !*p) {
                if (__builtin_mul_overflow(days, (int64_t)86400 * 1000000000, &v))
                        return -EINVAL;
                *ret_ns = v;
                return 0;
        }
        if (parse_int64(s, &v) == 0 && v >= 0 && v < 1LL << 33) {
                *ret_ns = v * 1000000000; /* unix seconds */
                return 0;
        }
        if (parse_duration(s, &v) == 0) {
                *ret_ns = now_ns - v;
                return 0;
        }
        return -EINVAL;
}

void svc_human_duration(int64_t ns, char *buf, size_t len)
{
        int64_t s = ns / 1000000000;
        int64_t min = s / 60;
        int64_t hours = (s + 1800) / 3600; /* rounded, as people say "about an hour" */
        if (s < 1)
                snprintf(buf, len, "Less than a second");
        else if (s == 1)
                snprintf(buf, len, "1 second");
        else if (s < 60)
                snprintf(buf, len, "%lld seconds", (long long)s);
        else if (min == 1)
                snprintf(buf, len, "About a minute");
        else if (min < 60)
                snprintf(buf, len, "%lld minutes", (long long)min);
        else if (hours == 1)
                snprintf(buf, len, "About an hour");
        else if (hours < 48)
                snprintf(buf, len, "%lld hours", (long long)hours);
        else if (hours < 24 * 14)
                snprintf(buf, len, "%lld days", (long long)(hours / 24));
        else if (hours < 24 * 60)
                snprintf(buf, len, "%lld weeks", (long long)(hours / 24 / 7));
        else if (hours < 24 * 730)
                snprintf(buf, len, "%lld months", (long long)(hours / 24 / 30));
        else
                snprintf(buf, len, "%lld years", (long long)(s / 3600 / 24 / 365));
}

/* ---- log records ---- */

char *svc_log_format(int64_t ts, int stream, bool partial, const char *text, size_t len,
                     size_t *ret_len)
{
        char t[48];
        svc_time_format(ts, t, sizeof(t));
        const char *name = stream == SVC_STDERR ? "stderr" : "stdout";
        size_t head = strlen(t) + 1 + strlen(name) + 3;
        char *out = xmalloc(head + len + 2);
        snprintf(out, head + 1, "%s %s %c ", t, name, partial ? 'P' : 'F');
        memcpy(out + head, text, len);
        out[head + len] = '\n';
        out[head + len + 1] = '\0';
        if (ret_len)
                *ret_len = head + len + 1;
        return out;
}

int svc_log_parse(const char *line, size_t len, svc_log_rec *ret)
{
        if (len && line[len - 1] == '\n')
                len--;
        const char *end = line + len;
        const char *sp1 = memchr(line, ' ', len);
        if (!sp1 || sp1 - line >= 48)
                return -EINVAL;
        char t[48];
        memcpy(t, line, (size_t)(sp1 - line));
        t[sp1 - line] = '\0';
        svc_log_rec r = { 0 };
        if (svc_time_parse(t, &r.ts) < 0)
                return -EINVAL;
        const char *p = sp1 + 1;
        if (end - p >= 9 && memcmp(p, "stdout ", 7) == 0)
                r.stream = SVC_STDOUT;
        else if (end - p >= 9 && memcmp(p, "stderr ", 7) == 0)
                r.stream = SVC_STDERR;
        else
                return -EINVAL;
        p += 7;
        if ((*p != 'F' && *p != 'P') || p[1] != ' ')
                return -EINVAL;
        r.partial = *p == 'P';
        r.text = p + 2;
        r.len = (size_t)(end - r.text);
        *ret = r;
        return 0;
}

bool svc_log_should_rotate(uint64_t cur, uint64_t add, uint64_t max)
{
        return cur > 0 && cur + add > max;
}

int svc_size_parse(const char *s, uint64_t *ret)
{
        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        size_t n = strspn(s, "0123456789");
        _cleanup_free_ char *num = xstrndup(s, n);
        uint64_t v;
        if (parse_uint64(num, &v) < 0)
                return -EINVAL;
        const char *suf = s + n;
        unsigned shift = 0;
        if (*suf) {
                const char *units = "kmgt";
                const char *u = strchr(units, tolower((unsigned char)*suf));
                if (!u)
                        return -EINVAL;
                shift = 10 * (unsigned)(u - units + 1);
                suf++;
                if (*suf == 'b' || *suf == 'B' || (*suf == 'i' && (suf[1] == 'b' || suf[1] == 'B')))
                        suf += *suf == 'i' ? 2 : 1;
                if (*suf)
                        return -EINVAL;
        }
        if (shift && v > (UINT64_MAX >> shift))
                return -EINVAL;
        v <<= shift;
        if (v < 4096)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* ---- status ---- */

/* now - then, saturated: the times come from records a crash or a hand may have damaged. */
static int64_t elapsed(int64_t now, int64_t then)
{
        int64_t d;
        if (__builtin_sub_overflow(now, then, &d))
                return then < 0 ? INT64_MAX : INT64_MIN;
        return d;
}

void svc_status_text(const husk_service_info_t *i, int64_t now, char *buf, size_t len)
{
        char d[48];
        switch (i->status) {
        case HUSK_SERVICE_RUNNING:
        case HUSK_SERVICE_PAUSED:
                svc_human_duration(elapsed(now, i->started), d, sizeof(d));
                snprintf(buf, len, "Up %s%s", d, i->status == HUSK_SERVICE_PAUSED ? " (Paused)" : "");
                return;
        case HUSK_SERVICE_RESTARTING:
                svc_human_duration(elapsed(now, i->finished), d, sizeof(d));
                snprintf(buf, len, "Restarting (%d) %s ago", i->exit_code, d);
                return;
        case HUSK_SERVICE_STOPPING:
                snprintf(buf, len, "Stopping");
                return;
        case HUSK_SERVICE_EXITED:
                if (!i->has_exit || i->exit_code < 0) {
                        snprintf(buf, len, "Exited (unknown)");
                        return;
                }
                svc_human_duration(elapsed(now, i->finished), d, sizeof(d));
                snprintf(buf, len, "Exited (%d) %s ago", i->exit_code, d);
                return;
        default:
                snprintf(buf, len, "Created");
        }
}

char *svc_port_text(const char *spec)
{
        _cleanup_free_ char *s = xstrdup(spec);
        const char *proto = "tcp";
        char *slash = strchr(s, '/');
        if (slash) {
                *slash = '\0';
                proto = slash + 1;
        }
        /* Split from the right: CTRPORT, HOSTPORT, then the rest is the host IP (maybe IPv6). */
        char *c2 = strrchr(s, ':');
        if (!c2)
                return xasprintf("0.0.0.0:%s->%s/%s", s, s, proto);
        *c2 = '\0';
        const char *ctr = c2 + 1, *hostport = s, *ip = "0.0.0.0";
        char *c1 = strrchr(s, ':');
        if (c1) {
                *c1 = '\0';
                hostport = c1 + 1;
                ip = s[0] ? s : "0.0.0.0";
        }
        if (!*ctr || strspn(ctr, "0123456789-") != strlen(ctr) ||
            strspn(hostport, "0123456789-") != strlen(hostport))
                return NULL;
        if (!*hostport)
                hostport = ctr;
        return xasprintf("%s:%s->%s/%s", ip, hostport, ctr, proto);
}

int svc_signal_parse(const char *s, int *ret)
{
        static const struct {
                const char *name;
                int sig;
        } sigs[] = { { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
                     { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "ALRM", SIGALRM },
                     { "PWR", SIGPWR },   { "WINCH", SIGWINCH }, { "STOP", SIGSTOP }, { "CONT", SIGCONT },
                     { "ABRT", SIGABRT } };
        if (!s || !s[0])
                return -EINVAL;
        int n;
        if (parse_int(s, &n) == 0) {
                if (n <= 0 || n >= NSIG)
                        return -EINVAL;
                *ret = n;
                return 0;
        }
        const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                if (strcasecmp(name, sigs[i].name) == 0) {
                        *ret = sigs[i].sig;
                        return 0;
                }
        if (strncasecmp(name, "RTMIN+", 6) == 0 && parse_int(name + 6, &n) == 0 && n >= 0 &&
            SIGRTMIN + n <= SIGRTMAX) {
                *ret = SIGRTMIN + n;
                return 0;
        }
        return -EINVAL;
}
