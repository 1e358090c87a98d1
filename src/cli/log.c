/* SPDX-License-Identifier: Apache-2.0 */
/* Error, warning and debug output. Engines read --log back (containerd: the last "error" line of a
 * JSON log shared by every call; so append, one whole line per write, RFC 3339 time). */
#include "cli.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static cli_ctx *log_ctx;

/* One log line in the --log-format: JSON ({"level","msg","time"}) or logrus-style text. */
static char *format_line(const cli_ctx *c, const char *level, const char *msg)
{
        char now[48];
        format_rfc3339(now, sizeof(now), false);
        _cleanup_free_ char *qmsg = json_quote(msg);
        if (c->log_json) {
                _cleanup_free_ char *qlevel = json_quote(level);
                return xasprintf("{\"level\":%s,\"msg\":%s,\"time\":\"%s\"}\n", qlevel, qmsg, now);
        }
        return xasprintf("time=\"%s\" level=%s msg=%s\n", now, level, qmsg);
}

/* One log line, written with a single write() on an O_APPEND fd so lines of concurrent calls never
 * interleave. */
static void log_line(cli_ctx *c, const char *level, const char *msg)
{
        _cleanup_free_ char *line = format_line(c, level, msg);
        _cleanup_close_ int fd =
                open(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        /* A log that cannot be opened must not hide the real message, which stderr still gets. */
        if (fd >= 0)
                (void)write_all(fd, line, strlen(line));
}

/* Without --log, a line goes to stderr: with --log-format json as one JSON object per line (as
 * runc's logger writes it there), else "husk: [LEVEL: ]MSG". */
static void stderr_line(cli_ctx *c, const char *level, const char *msg)
{
        if (c->log_json) {
                _cleanup_free_ char *line = format_line(c, level, msg);
                (void)write_all(STDERR_FILENO, line, strlen(line));
        } else if (strcmp(level, "error") == 0) {
                fprintf(stderr, "husk: %s\n", msg);
        } else {
                fprintf(stderr, "husk: %s: %s\n", level, msg);
        }
}

int cli_fail_err(cli_ctx *c, const husk_error_t *err)
{
        const char *msg = err && err->msg[0] ? err->msg : "unknown error";
        if (c->log_path) {
                /* runc: the plain message on stderr, the formatted line in the log. */
                fprintf(stderr, "husk: %s\n", msg);
                log_line(c, "error", msg);
        } else {
                stderr_line(c, "error", msg);
        }
        return 1;
}

int cli_fail(cli_ctx *c, const char *fmt, ...)
{
        husk_error_t e = { 0 };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
        va_end(ap);
        return cli_fail_err(c, &e);
}

void cli_warn(cli_ctx *c, const char *msg)
{
        if (c->log_path)
                log_line(c, "warning", msg);
        else
                stderr_line(c, "warning", msg);
}

void cli_debug(cli_ctx *c, const char *fmt, ...)
{
        if (!c->g.debug)
                return;
        char msg[HUSK_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (c->log_path)
                log_line(c, "debug", msg);
        else
                stderr_line(c, "debug", msg);
}

static void lib_warn(const char *msg)
{
        if (log_ctx)
                cli_warn(log_ctx, msg);
}

void cli_log_init(cli_ctx *c)
{
        log_ctx = c;
        c->g.warn = lib_warn;
}
