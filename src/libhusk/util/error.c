/* SPDX-License-Identifier: Apache-2.0 */
#include "util/util.h"

#include <string.h>

/* dst = a + ": " + b, truncated to HUSK_ERROR_MSG_MAX (a and b may be long). */
static void join_msg(char *dst, const char *a, const char *b)
{
        size_t max = HUSK_ERROR_MSG_MAX - 1, la = strnlen(a, max), n = 0;
        memcpy(dst, a, la);
        n = la;
        if (n + 2 <= max) {
                memcpy(dst + n, ": ", 2);
                n += 2;
        }
        size_t lb = strnlen(b, max);
        if (lb > max - n)
                lb = max - n;
        memmove(dst + n, b, lb);
        dst[n + lb] = '\0';
}

int husk_error_set(husk_error_t *err, int code, const char *fmt, ...)
{
        if (code < 0)
                code = -code;
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                va_end(ap);
                err->code = code;
        }
        return code ? -code : -EINVAL;
}

int husk_error_prefix(husk_error_t *err, const char *fmt, ...)
{
        if (!err)
                return -EINVAL;
        char prefix[HUSK_ERROR_MSG_MAX];
        char old[HUSK_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        join_msg(err->msg, prefix, old);
        return err->code ? -err->code : -EINVAL;
}

void husk_error_clear(husk_error_t *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = '\0';
        }
}

int util_syserr(husk_error_t *err, int e, const char *fmt, ...)
{
        if (e < 0)
                e = -e;
        if (err) {
                char ctx[HUSK_ERROR_MSG_MAX];
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(ctx, sizeof(ctx), fmt, ap);
                va_end(ap);
                join_msg(err->msg, ctx, strerror(e));
                err->code = e;
        }
        return e ? -e : -EINVAL;
}

const char *husk_status_name(husk_status_t s)
{
        switch (s) {
        case HUSK_STATUS_CREATING:
                return "creating";
        case HUSK_STATUS_CREATED:
                return "created";
        case HUSK_STATUS_RUNNING:
                return "running";
        case HUSK_STATUS_PAUSED:
                return "paused";
        case HUSK_STATUS_STOPPED:
                return "stopped";
        }
        return "unknown";
}
