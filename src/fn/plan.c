/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the pure logic (no syscalls but getrandom), unit-tested in tests/unit/test_fn.c. */
#include "fn.h"
#include "util/base64.h"
#include "util/sha256.h"
#include "util/util.h"

#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>

bool fn_name_valid(const char *name)
{
        size_t n = 0;
        if (!name)
                return false;
        for (const char *p = name; *p; p++, n++) {
                char c = *p;
                if (n >= FN_NAME_MAX)
                        return false;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return false;
        }
        return n > 0;
}

/* Digits then a suffix; the number must fit and the suffix must be one of the listed ones. */
static int split_number(const char *s, uint64_t *ret, const char **ret_suffix)
{
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        uint64_t v = 0;
        const char *p = s;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        *ret = v;
        *ret_suffix = p;
        return 0;
}

int fn_parse_memory_mb(const char *s, unsigned *ret)
{
        uint64_t v;
        const char *suf;
        int r = split_number(s, &v, &suf);
        if (r < 0)
                return r;
        if (strcasecmp(suf, "g") == 0 || strcasecmp(suf, "gb") == 0 || strcasecmp(suf, "gi") == 0) {
                if (v > 64)
                        return -ERANGE;
                v *= 1024;
        } else if (*suf && strcasecmp(suf, "m") != 0 && strcasecmp(suf, "mb") != 0 &&
                   strcasecmp(suf, "mi") != 0) {
                return -EINVAL;
        }
        if (v < 16 || v > 10240)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

int fn_parse_duration_ms(const char *s, uint64_t *ret)
{
        uint64_t v, mul;
        const char *suf;
        int r = split_number(s, &v, &suf);
        if (r < 0)
                return r;
        if (strcmp(suf, "ms") == 0)
                mul = 1;
        else if (!*suf || strcmp(suf, "s") == 0)
                mul = 1000;
        else if (strcmp(suf, "m") == 0)
                mul = 60 * 1000;
        else if (strcmp(suf, "h") == 0)
                mul = 3600 * 1000;
        else
                return -EINVAL;
        if (v > UINT64_MAX / mul / 1000000) /* must stay representable in ns */
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

uint64_t fn_billed_ms(uint64_t duration_ns)
{
        uint64_t ms = (duration_ns + 999999) / 1000000;
        return ms ? ms : 1;
}

char *fn_report_line(const char *req_id, uint64_t duration_ns, unsigned memory_mb,
                     uint64_t max_used_bytes, uint64_t init_ns)
{
        /* Lambda prints MB rounded up: a worker that used any memory used at least 1 MB. */
        uint64_t used_mb = (max_used_bytes + (1u << 20) - 1) >> 20;
        char init[64] = "";
        if (init_ns)
                snprintf(init, sizeof(init), "Init Duration: %.2f ms\t", (double)init_ns / 1e6);
        return xasprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu ms\t"
                         "Memory Size: %u MB\tMax Memory Used: %llu MB\t%s",
                         req_id, (double)duration_ns / 1e6,
                         (unsigned long long)fn_billed_ms(duration_ns), memory_mb,
                         (unsigned long long)used_mb, init);
}

char *fn_timeout_message(uint64_t timeout_ms)
{
        return xasprintf("Task timed out after %.2f seconds", (double)timeout_ms / 1000.0);
}

static const char *signal_text(int sig)
{
        switch (sig) {
        case SIGKILL: return "killed";
        case SIGSEGV: return "segmentation fault";
        case SIGABRT: return "aborted";
        case SIGBUS: return "bus error";
        case SIGILL: return "illegal instruction";
        case SIGFPE: return "floating point exception";
        case SIGTERM: return "terminated";
        default: return NULL;
        }
}

char *fn_exit_message(int st)
{
        if (WIFSIGNALED(st)) {
                const char *t = signal_text(WTERMSIG(st));
                return t ? xasprintf("Runtime exited with error: signal: %s", t)
                         : xasprintf("Runtime exited with error: signal: %d", WTERMSIG(st));
        }
        if (WIFEXITED(st))
                return xasprintf("Runtime exited with error: exit status %d", WEXITSTATUS(st));
        return xstrdup("Runtime exited");
}

int fn_parse_invoke_path(const char *url, char *name)
{
        static const char pre[] = "/2015-03-31/functions/", post[] = "/invocations";
        size_t lp = sizeof(pre) - 1, lq = sizeof(post) - 1, n = url ? strlen(url) : 0;
        if (n < lp + lq || strncmp(url, pre, lp) != 0 || strcmp(url + n - lq, post) != 0)
                return -ENOENT;
        /* The name segment is what lies between: it may hold a decoded '/' (%2f), "..", or be
         * very long; only a valid name passes, and nothing else is ever looked at. */
        size_t len = n - lp - lq;
        if (len == 0 || len > FN_NAME_MAX)
                return -EINVAL;
        char buf[FN_NAME_MAX + 1];
        memcpy(buf, url + lp, len);
        buf[len] = '\0';
        if (!fn_name_valid(buf))
                return -EINVAL;
        memcpy(name, buf, len + 1);
        return 0;
}

fn_admit_t fn_admit(const fn_counts *c, unsigned concurrency, unsigned max_queue, bool may_queue)
{
        /* c->waiting counts the others: a queued caller asks again when woken. */
        if (c->idle > 0)
                return FN_ADMIT_WARM;
        if (c->alive < concurrency)
                return FN_ADMIT_COLD;
        if (!may_queue || c->waiting < max_queue)
                return FN_ADMIT_WAIT;
        return FN_ADMIT_REJECT;
}

int64_t fn_retry_delay_ms(unsigned attempts, uint64_t base_ms)
{
        if (attempts >= FN_ASYNC_ATTEMPTS)
                return -1;
        /* Lambda waits 1 minute, then 2: the base doubles (configurable so tests stay short). */
        return (int64_t)(base_ms << (attempts ? attempts - 1 : 0));
}

void fn_uuid(char out[37])
{
        uint8_t b[16] = { 0 };
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
                /* getrandom does not fail for 16 bytes once the pool is ready; still unique */
                uint64_t t = now_ns();
                memcpy(b, &t, sizeof(t));
                pid_t p = getpid();
                memcpy(b + 8, &p, sizeof(p));
        }
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
        static const char hex[] = "0123456789abcdef";
        char *o = out;
        for (int i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        *o++ = '-';
                *o++ = hex[b[i] >> 4];
                *o++ = hex[b[i] & 15];
        }
        *o = '\0';
}

char *fn_path(const char *store, const char *rel)
{
        return xasprintf("%s/fn%s%s", store, rel && *rel ? "/" : "", rel ? rel : "");
}

bool fn_text_printable(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

const char *fn_error_key(const char *type)
{
        bool capital = strcmp(type, "ResourceNotFoundException") == 0 ||
                       strcmp(type, "ServiceException") == 0 ||
                       strcmp(type, "ResourceInUseException") == 0;
        return capital ? "Message" : "message";
}

int fn_env_check(const char *kv, char *why, size_t why_len)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
                snprintf(why, why_len, "environment variable \"%.64s\": use KEY=VALUE", kv);
                return -EINVAL;
        }
        for (const unsigned char *p = (const unsigned char *)kv; *p; p++)
                if (*p < 0x20 || *p == 0x7f) {
                        /* The name as shown: its control characters as '?'. */
                        char name[65];
                        size_t nl = (size_t)(eq - kv) < 64 ? (size_t)(eq - kv) : 64;
                        for (size_t i = 0; i < nl; i++)
                                name[i] = (kv[i] > 0 && kv[i] < 0x20) || kv[i] == 0x7f ? '?' : kv[i];
                        name[nl] = '\0';
                        snprintf(why, why_len, "environment variable %s: %s holds a control "
                                 "character (0x%02x); line breaks and other control characters "
                                 "are not allowed", name,
                                 (const char *)p < eq ? "its name" : "its value", *p);
                        return -EINVAL;
                }
        return 0;
}

size_t fn_rate_take(fn_rate *r, uint64_t now_ms, size_t n, uint64_t *ret_flushed)
{
        *ret_flushed = 0;
        if (now_ms < r->window_start_ms || now_ms - r->window_start_ms >= 1000) {
                *ret_flushed = r->dropped;
                r->dropped = 0;
                r->used = 0;
                r->window_start_ms = now_ms;
        }
        uint64_t room = r->used < r->rate ? r->rate - r->used : 0;
        size_t take = n < room ? n : (size_t)room;
        r->used += take;
        r->dropped += n - take;
        return take;
}

/* ---------------------------------------------------------------- Lambda's shapes (issue 14) */

static bool all_digits(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return n > 0;
}

int fn_arn_name(const char *s, char *name)
{
        if (!s || !*s || strlen(s) > 256)
                return -EINVAL;
        const char *part[9];
        size_t len[9], n = 0;
        for (const char *p = s;; ) {
                const char *c = strchr(p, ':');
                if (n == ARRAY_SIZE(part))
                        return -EINVAL;
                part[n] = p;
                len[n++] = c ? (size_t)(c - p) : strlen(p);
                if (!c)
                        break;
                p = c + 1;
        }
#define IS(i, lit) (len[i] == sizeof(lit) - 1 && strncmp(part[i], lit, len[i]) == 0)
        size_t at; /* the index of the name */
        if (n == 1 || n == 2)
                at = 0; /* NAME[:QUALIFIER] */
        else if ((n == 3 || n == 4) && len[0] == 12 && all_digits(part[0], 12) && IS(1, "function"))
                at = 2; /* ACCOUNT:function:NAME[:QUALIFIER] */
        else if ((n == 7 || n == 8) && IS(0, "arn") && len[1] >= 3 && strncmp(part[1], "aws", 3) == 0 &&
                 IS(2, "lambda") && len[3] > 0 && len[4] == 12 && all_digits(part[4], 12) &&
                 IS(5, "function"))
                at = 6; /* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] */
        else
                return -EINVAL;
        if (len[at] == 0 || len[at] > FN_NAME_MAX)
                return -EINVAL;
        char buf[FN_NAME_MAX + 1];
        memcpy(buf, part[at], len[at]);
        buf[len[at]] = '\0';
        if (!fn_name_valid(buf))
                return -EINVAL;
        if (at + 1 < n && !IS(at + 1, "$LATEST")) {
                /* A version or alias: valid in form, but husk keeps none. */
                for (size_t i = 0; i < len[at + 1]; i++) {
                        char c = part[at + 1][i];
                        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '_'))
                                return -EINVAL;
                }
                if (len[at + 1] == 0)
                        return -EINVAL;
                memcpy(name, buf, len[at] + 1);
                return -ENOENT;
        }
#undef IS
        memcpy(name, buf, len[at] + 1);
        return 0;
}

int fn_lambda_time(const char *t, char out[32])
{
        /* YYYY-MM-DDTHH:MM:SS[.fraction]Z */
        static const char shape[] = "dddd-dd-ddTdd:dd:dd";
        if (!t || strlen(t) < sizeof(shape))
                return -EINVAL;
        for (size_t i = 0; i < sizeof(shape) - 1; i++)
                if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
                        return -EINVAL;
        char ms[4] = "000";
        const char *p = t + sizeof(shape) - 1;
        if (*p == '.') {
                p++;
                for (size_t i = 0; *p >= '0' && *p <= '9'; i++, p++)
                        if (i < 3)
                                ms[i] = *p;
        }
        if (strcmp(p, "Z") != 0)
                return -EINVAL;
        snprintf(out, 32, "%.19s.%s+0000", t, ms);
        return 0;
}

static int hexdigit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

char *fn_code_sha256(const void *data, size_t len)
{
        sha256_ctx c;
        uint8_t d[SHA256_LEN];
        sha256_init(&c);
        sha256_update(&c, data, len);
        sha256_final(&c, d);
        return base64_encode(d, sizeof(d));
}

char *fn_image_code_sha256(const char *id)
{
        static const char pre[] = "sha256:";
        if (!id || strncmp(id, pre, sizeof(pre) - 1) != 0 || strlen(id) != sizeof(pre) - 1 + 64)
                return NULL;
        uint8_t d[SHA256_LEN];
        const char *hex = id + sizeof(pre) - 1;
        for (size_t i = 0; i < SHA256_LEN; i++) {
                int hi = hexdigit(hex[2 * i]), lo = hexdigit(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return NULL;
                d[i] = (uint8_t)(hi << 4 | lo);
        }
        return base64_encode(d, sizeof(d));
}

const char *fn_host_arch(void)
{
#if defined(__x86_64__)
        return "x86_64";
#elif defined(__aarch64__)
        return "arm64";
#else
        return NULL;
#endif
}
