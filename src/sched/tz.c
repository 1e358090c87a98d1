/* SPDX-License-Identifier: Apache-2.0 */
/* Time zones for schedules: a small reader of the system's TZif files (RFC 8536, version 2+:
 * the 64-bit transitions, then the POSIX TZ string of the footer for times past the last
 * transition). Never setenv("TZ")/localtime in this threaded server: the offset is computed
 * from the file's own data. */
#include "sint.h"
#include "util/openat2.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define TZIF_MAX (256u << 10)

/* A POSIX TZ rule date: kind 'M' (month, week, day), 'J' (Julian 1..365 without Feb 29) or
 * 'N' (0..365 with it); secs: the local time of day of the change. */
typedef struct rule_date {
        char kind;
        int m, w, d, n;
        int32_t secs;
} rule_date;

typedef struct posix_tz {
        bool valid, has_dst;
        int32_t std_off, dst_off; /* seconds east of UTC */
        rule_date start, end;
} posix_tz;

struct sched_tz {
        size_t n;          /* transitions */
        int64_t *at;       /* epoch seconds */
        int32_t *off_of;   /* the offset in force from at[i] */
        int32_t first_off; /* before the first transition */
        posix_tz footer;
};

void sched_tz_free(sched_tz *z)
{
        if (!z)
                return;
        free(z->at);
        free(z->off_of);
        free(z);
}

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
        return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* "[+-]hh[:mm[:ss]]" -> seconds; returns the end, or NULL. */
static const char *parse_hms(const char *s, int32_t *ret)
{
        int sign = 1;
        if (*s == '+' || *s == '-')
                sign = *s++ == '-' ? -1 : 1;
        if (*s < '0' || *s > '9')
                return NULL;
        long h = strtol(s, (char **)&s, 10), m = 0, sec = 0;
        if (*s == ':') {
                m = strtol(s + 1, (char **)&s, 10);
                if (*s == ':')
                        sec = strtol(s + 1, (char **)&s, 10);
        }
        if (h > 167 || m > 59 || sec > 59)
                return NULL;
        *ret = (int32_t)(sign * (h * 3600 + m * 60 + sec));
        return s;
}

static const char *parse_name(const char *s)
{
        if (*s == '<') {
                const char *e = strchr(s, '>');
                return e ? e + 1 : NULL;
        }
        const char *b = s;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
                s++;
        return s - b >= 3 ? s : NULL;
}

static const char *parse_rule_date(const char *s, rule_date *r)
{
        r->secs = 7200;
        if (*s == 'M') {
                r->kind = 'M';
                if (sscanf(s + 1, "%d.%d.%d", &r->m, &r->w, &r->d) != 3 || r->m < 1 || r->m > 12 ||
                    r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
                        return NULL;
                s += strcspn(s, ",/");
        } else {
                r->kind = *s == 'J' ? 'J' : 'N';
                if (*s == 'J')
                        s++;
                if (*s < '0' || *s > '9')
                        return NULL;
                r->n = (int)strtol(s, (char **)&s, 10);
        }
        if (*s == '/' && !(s = parse_hms(s + 1, &r->secs)))
                return NULL;
        return s;
}

/* "EST5EDT,M3.2.0,M11.1.0", "<+03>-3", "CET-1CEST,M3.5.0,M10.5.0/3". */
static void parse_posix(const char *s, posix_tz *p)
{
        int32_t o;
        *p = (posix_tz){ 0 };
        if (!(s = parse_name(s)) || !(s = parse_hms(s, &o)))
                return;
        p->std_off = -o;
        if (!*s) {
                p->valid = true;
                return;
        }
        if (!(s = parse_name(s)))
                return;
        p->dst_off = p->std_off + 3600;
        if (*s && *s != ',') {
                if (!(s = parse_hms(s, &o)))
                        return;
                p->dst_off = -o;
        }
        if (*s != ',' || !(s = parse_rule_date(s + 1, &p->start)) || *s != ',' ||
            !(s = parse_rule_date(s + 1, &p->end)) || *s)
                return;
        p->has_dst = p->valid = true;
}

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
static int64_t days_of(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_of(int64_t z, int64_t *y, int *m, int *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The local epoch seconds at which a rule date happens in year y. */
static int64_t rule_local(const rule_date *r, int64_t y)
{
        int64_t day;
        if (r->kind == 'J')
                day = days_of(y, 1, 1) + r->n - 1 + (leap(y) && r->n >= 60);
        else if (r->kind == 'N')
                day = days_of(y, 1, 1) + r->n;
        else {
                int64_t first = days_of(y, r->m, 1);
                int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
                int64_t d = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
                static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
                int dim = mdays[r->m - 1] + (r->m == 2 && leap(y));
                while (d >= first + dim)
                        d -= 7;
                day = d;
        }
        return day * 86400 + r->secs;
}

/* Times further than about a billion years from 1970 are taken at that limit: the rules'
 * arithmetic (t + offset, days * 86400, local +- a day) stays within int64 for any t. */
#define TZ_T_LIMIT (INT64_C(1) << 55)

static int64_t clamp_t(int64_t t)
{
        return t < -TZ_T_LIMIT ? -TZ_T_LIMIT : t > TZ_T_LIMIT ? TZ_T_LIMIT : t;
}

static int32_t posix_offset(const posix_tz *p, int64_t t)
{
        if (!p->has_dst)
                return p->std_off;
        t = clamp_t(t);
        int64_t y;
        int m, d;
        civil_of((t + p->std_off) / 86400 - ((t + p->std_off) % 86400 < 0), &y, &m, &d);
        int64_t start = rule_local(&p->start, y) - p->std_off;
        int64_t end = rule_local(&p->end, y) - p->dst_off;
        bool dst = start < end ? (t >= start && t < end) : (t < end || t >= start);
        return dst ? p->dst_off : p->std_off;
}

int32_t sched_tz_offset(const sched_tz *z, int64_t t)
{
        if (!z)
                return 0;
        if (z->n == 0 || t < z->at[0])
                return z->n == 0 && z->footer.valid ? posix_offset(&z->footer, t) : z->first_off;
        if (t >= z->at[z->n - 1] && z->footer.valid)
                return posix_offset(&z->footer, t);
        size_t lo = 0, hi = z->n; /* the last at[i] <= t */
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (z->at[mid] <= t)
                        lo = mid;
                else
                        hi = mid;
        }
        return z->off_of[lo];
}

int64_t sched_tz_from_local(const sched_tz *z, int64_t local)
{
        local = clamp_t(local);
        int32_t oa = sched_tz_offset(z, local - 86400), ob = sched_tz_offset(z, local + 86400);
        int64_t ua = local - oa, ub = local - ob;
        bool va = sched_tz_offset(z, ua) == oa, vb = sched_tz_offset(z, ub) == ob;
        if (va && vb)
                return ua < ub ? ua : ub; /* ambiguous: the first occurrence */
        if (va || vb)
                return va ? ua : ub;
        /* In a gap (ob > oa): the instant it ends, the first second with the new offset. */
        int64_t lo = ub < ua ? ub : ua, hi = ub < ua ? ua : ub;
        while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (sched_tz_offset(z, mid) == sched_tz_offset(z, lo))
                        lo = mid;
                else
                        hi = mid;
        }
        return hi;
}

static bool name_ok(const char *n)
{
        size_t len = strlen(n);
        if (len < 1 || len > 50 || n[0] == '/' || n[0] == '.' || strstr(n, "..") ||
            strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != len)
                return false;
        return true;
}

static int parse_tzif(const unsigned char *b, size_t len, sched_tz *z)
{
        /* Skip the version-1 block: the 64-bit one follows. */
        if (len < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2')
                return -1;
        uint32_t c[6];
        for (int i = 0; i < 6; i++)
                c[i] = be32(b + 20 + 4 * i); /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
        size_t v1 = 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 +
                    c[1] + c[0];
        if (v1 + 44 > len || memcmp(b + v1, "TZif", 4) != 0)
                return -1;
        const unsigned char *h = b + v1;
        for (int i = 0; i < 6; i++)
                c[i] = be32(h + 20 + 4 * i);
        size_t need = 44 + (size_t)c[3] * 9 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 12 +
                      c[1] + c[0];
        if (c[4] == 0 || c[4] > 256 || c[3] > 100000 || v1 + need > len)
                return -1;
        const unsigned char *times = h + 44, *idx = times + (size_t)c[3] * 8,
                            *types = idx + c[3];
        z->n = c[3];
        z->at = calloc(z->n ? z->n : 1, sizeof(int64_t));
        z->off_of = calloc(z->n ? z->n : 1, sizeof(int32_t));
        if (!z->at || !z->off_of)
                return -1;
        for (size_t i = 0; i < z->n; i++) {
                if (idx[i] >= c[4])
                        return -1;
                z->at[i] = be64(times + 8 * i);
                z->off_of[i] = (int32_t)be32(types + 6 * idx[i]);
        }
        z->first_off = (int32_t)be32(types); /* RFC 8536: type 0 before the first transition */
        const unsigned char *foot = h + need;
        size_t flen = len - v1 - need;
        if (flen > 2 && foot[0] == '\n') {
                const unsigned char *e = memchr(foot + 1, '\n', flen - 1);
                if (e && e - foot - 1 < 128) {
                        char tzs[128];
                        memcpy(tzs, foot + 1, (size_t)(e - foot - 1));
                        tzs[e - foot - 1] = '\0';
                        parse_posix(tzs, &z->footer);
                }
        }
        return 0;
}

/* The zone file, opened beneath ZONEINFO only: a symlink there that leads out of it (Debian's
 * /usr/share/zoneinfo/localtime -> /etc/localtime) is not followed. openat2 RESOLVE_BENEATH
 * (Linux 5.6); without it, the file opened is checked through /proc/self/fd and closed unread
 * when it is not beneath. -1 when it cannot be opened there. */
static int open_zone(const char *name)
{
        int dfd = open(ZONEINFO, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -1;
        int fd = util_openat2(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                              RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM /* a seccomp filter */)) {
                fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                char p[64], dir[PATH_MAX], file[PATH_MAX];
                ssize_t dn = -1, fn = -1;
                snprintf(p, sizeof(p), "/proc/self/fd/%d", dfd);
                dn = readlink(p, dir, sizeof(dir) - 1);
                snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                fn = fd >= 0 ? readlink(p, file, sizeof(file) - 1) : -1;
                if (fd >= 0 && (dn <= 0 || fn <= dn || memcmp(file, dir, (size_t)dn) != 0 ||
                                file[dn] != '/')) {
                        close(fd);
                        fd = -1;
                }
        }
        close(dfd);
        return fd;
}

int sched_tz_load(const char *name, sched_tz **ret, char *why, size_t why_len)
{
        *ret = NULL;
        if (!name || strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
                return 0; /* NULL is UTC */
        if (!name_ok(name)) {
                snprintf(why, why_len, "Invalid ScheduleExpressionTimezone '%.60s': an IANA time "
                         "zone name such as Europe/Berlin", name);
                return -1;
        }
        int fd = open_zone(name);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZIF_MAX) {
                if (fd >= 0)
                        close(fd);
                snprintf(why, why_len, "Invalid ScheduleExpressionTimezone '%s': no such time "
                         "zone in " ZONEINFO, name);
                return -1;
        }
        unsigned char *buf = malloc((size_t)st.st_size + 1);
        ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
        close(fd);
        sched_tz *z = calloc(1, sizeof(*z));
        if (!z || got != st.st_size || parse_tzif(buf, (size_t)got, z) < 0) {
                free(buf);
                sched_tz_free(z);
                snprintf(why, why_len, "Invalid ScheduleExpressionTimezone '%s': " ZONEINFO
                         "/%s is not a TZif file", name, name);
                return -1;
        }
        free(buf);
        *ret = z;
        return 0;
}

int64_t sched_days_of(int64_t y, int m, int d)
{
        return days_of(y, m, d);
}
void sched_civil_of(int64_t days, int64_t *y, int *m, int *d)
{
        civil_of(days, y, m, d);
}
