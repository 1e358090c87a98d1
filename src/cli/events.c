/* SPDX-License-Identifier: Apache-2.0 */
/* events: resource usage as runc's JSON lines, once (--stats) or every --interval. */
#include "cli.h"
#include "util/json.h"
#include "util/util.h"

#include <string.h>

/* Go-style durations as runc takes them: "5s", "500ms", "1m", "2h", "100us"; a bare number is
 * seconds. */
static int parse_interval(const char *s, uint64_t *ret_ns)
{
        static const struct {
                const char *unit;
                uint64_t ns;
        } units[] = { { "ns", 1 },           { "us", 1000 },          { "ms", 1000000 },
                      { "s", 1000000000ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL } };
        size_t n = strspn(s, "0123456789");
        if (n == 0 || n > 12)
                return -EINVAL;
        char num[16];
        memcpy(num, s, n);
        num[n] = '\0';
        uint64_t v;
        if (parse_uint64(num, &v) < 0)
                return -EINVAL;
        const char *unit = *(s + n) ? s + n : "s";
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (strcmp(unit, units[i].unit) == 0) {
                        /* 0 would spin; more than a day is surely a typo (and may overflow). */
                        if (v == 0 || v > 86400000000000ULL / units[i].ns)
                                return -ERANGE;
                        *ret_ns = v * units[i].ns;
                        return 0;
                }
        return -EINVAL;
}

int cmd_events(cli_ctx *c, int argc, char **argv)
{
        bool stats = false;
        const char *interval = "5s";
        const cli_opt opts[] = {
                { "stats", 0, OPT_BOOL, &stats, "print the statistics once and exit" },
                { "interval", 0, OPT_STRING, &interval,
                  "time between two statistics lines (default 5s)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 1) < 0)
                return 1;
        uint64_t ns = 0;
        if (parse_interval(interval, &ns) < 0)
                return cli_fail(c, "events: invalid --interval \"%s\": a duration from 1ns to 24h "
                                   "(e.g. 5s, 500ms)",
                                interval);
        husk_error_t err = { 0 };
        if (stats) {
                _cleanup_free_ char *json = NULL;
                if (husk_stats_json(&c->g, p[0], &json, &err) < 0)
                        return cli_fail_err(c, &err);
                puts(json);
                return 0;
        }
        /* The stream: a statistics line now and every interval, an {"type":"oom"} line at each
         * OOM of the memory cgroup, until the container stops. */
        husk_events_t *ev = NULL;
        if (husk_events_open(&c->g, p[0], &ev, &err) < 0)
                return cli_fail_err(c, &err);
        _cleanup_free_ char *qid = json_quote(p[0]);
        uint64_t next = now_ns();
        int rc = 0;
        for (;;) {
                husk_event_type_t type;
                if (husk_events_next(ev, next, &type, &err) < 0) {
                        rc = cli_fail_err(c, &err);
                        break;
                }
                if (type == HUSK_EVENT_EXIT)
                        break;
                if (type == HUSK_EVENT_OOM) {
                        printf("{\"type\":\"oom\",\"id\":%s}\n", qid);
                } else {
                        _cleanup_free_ char *json = NULL;
                        if (husk_stats_json(&c->g, p[0], &json, &err) < 0) {
                                /* Streaming ends quietly when the container goes away. */
                                if (err.code != ESRCH && err.code != ENOENT)
                                        rc = cli_fail_err(c, &err);
                                break;
                        }
                        puts(json);
                        next = now_ns() + ns;
                }
                if (fflush(stdout) != 0 || ferror(stdout))
                        break; /* the reader went away */
        }
        husk_events_free(ev);
        return rc;
}
