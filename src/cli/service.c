/* SPDX-License-Identifier: Apache-2.0 */
/* Detached services made by `husk run -d`: logs, stop, restart, rm, inspect, and `ps` without a
 * container id (the podman-style table; with an id, ps stays runc's process list). */
#include "cli.h"
#include "husk/service.h"
#include "util/util.h"

#include <string.h>

static int parse(cli_ctx *c, const cli_opt *opts, int argc, char **argv, char ***ret_pos,
                 int *ret_npos)
{
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, ret_pos, ret_npos);
        return r > 0 ? 0 : r < 0 ? 1 : -1; /* -1: go on */
}

/* ---- logs ---- */

typedef struct logs_ctx {
        bool timestamps, follow;
        FILE *last; /* the stream of the previous line */
} logs_ctx;

static int emit_line(void *ud, const husk_service_line_t *l)
{
        logs_ctx *x = ud;
        FILE *out = l->stream == 2 ? stderr : stdout;
        /* The lines come in the order the service wrote them (the log's order): flush the other
         * stream before switching, or a buffered stdout would land after every stderr line when
         * both go to one pipe (2>&1). */
        if (x->last && x->last != out)
                fflush(x->last);
        x->last = out;
        if (x->timestamps)
                fprintf(out, "%s ", l->time);
        fwrite(l->text, 1, l->len, out);
        if (l->newline)
                fputc('\n', out);
        if (x->follow)
                fflush(out);
        return ferror(out) ? 1 : 0; /* a closed pipe ends -f */
}

int cmd_logs(cli_ctx *c, int argc, char **argv)
{
        const char *store = NULL, *tail = NULL, *since = NULL;
        logs_ctx x = { 0 };
        const cli_opt opts[] = {
                { "follow", 'f', OPT_BOOL, &x.follow, "keep printing new output while it runs" },
                { "tail", 'n', OPT_STRING, &tail, "only the last N lines (or all)" },
                { "since", 0, OPT_STRING, &since, "only lines since a time (RFC 3339) or a duration ago (10s, 5m)" },
                { "timestamps", 't', OPT_BOOL, &x.timestamps, "prefix each line with its time" },
                { "store", 0, OPT_STRING, &store, "image store (default $HUSK_STORE or /var/lib/husk)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = parse(c, opts, argc, argv, &pos, &npos);
        if (r >= 0)
                return r;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 1) < 0)
                return 1;
        husk_service_logs_opts_t o = { .follow = x.follow, .tail = -1, .since = since,
                                       .emit = emit_line, .ud = &x };
        if (tail && strcmp(tail, "all") != 0) {
                int64_t n;
                if (parse_int64(tail, &n) < 0)
                        return cli_fail(c, "logs: invalid --tail \"%s\": a number or all", tail);
                o.tail = n < 0 ? -1 : (long)n;
        }
        husk_error_t err = { 0 };
        if (husk_service_logs(store, p[0], &o, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

/* ---- stop, restart, rm ---- */

typedef int (*svc_op)(cli_ctx *c, const char *store, const char *name, unsigned t, bool force,
                      husk_error_t *err);

static int op_stop(cli_ctx *c, const char *store, const char *name, unsigned t, bool force,
                   husk_error_t *err)
{
        (void)force;
        return husk_service_stop(&c->g, store, name, t, err);
}

static int op_restart(cli_ctx *c, const char *store, const char *name, unsigned t, bool force,
                      husk_error_t *err)
{
        (void)force;
        return husk_service_restart(&c->g, store, name, t, err);
}

static int op_rm(cli_ctx *c, const char *store, const char *name, unsigned t, bool force,
                 husk_error_t *err)
{
        (void)t;
        return husk_service_rm(&c->g, store, name, force, err);
}

/* Each NAME in turn; its name is printed when done (podman), failures reported and counted. */
static int each(cli_ctx *c, int argc, char **argv, svc_op op, bool has_time, bool has_force)
{
        const char *store = NULL;
        unsigned t = 10;
        bool force = false;
        cli_opt opts[4] = { { 0 } };
        size_t k = 0;
        if (has_time)
                opts[k++] = (cli_opt){ "time", 't', OPT_UINT, &t,
                                       "seconds to wait for the stop signal before SIGKILL (10)" };
        if (has_force)
                opts[k++] = (cli_opt){ "force", 'f', OPT_BOOL, &force, "also a running one (killed)" };
        opts[k++] = (cli_opt){ "store", 0, OPT_STRING, &store,
                               "image store (default $HUSK_STORE or /var/lib/husk)" };
        char **pos = NULL;
        int npos = 0;
        int r = parse(c, opts, argc, argv, &pos, &npos);
        if (r >= 0)
                return r;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, npos > 0 ? npos : 1) < 0)
                return 1;
        int rc = 0;
        for (int i = 0; i < npos; i++) {
                husk_error_t err = { 0 };
                if (op(c, store, p[i], t, force, &err) < 0) {
                        rc = cli_fail_err(c, &err);
                        continue;
                }
                printf("%s\n", p[i]);
        }
        return rc;
}

int cmd_stop(cli_ctx *c, int argc, char **argv)
{
        return each(c, argc, argv, op_stop, true, false);
}

int cmd_restart(cli_ctx *c, int argc, char **argv)
{
        return each(c, argc, argv, op_restart, true, false);
}

int cmd_rm(cli_ctx *c, int argc, char **argv)
{
        return each(c, argc, argv, op_rm, false, true);
}

/* ---- inspect ---- */

int cmd_inspect(cli_ctx *c, int argc, char **argv)
{
        const char *store = NULL;
        const cli_opt opts[] = {
                { "store", 0, OPT_STRING, &store, "image store (default $HUSK_STORE or /var/lib/husk)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = parse(c, opts, argc, argv, &pos, &npos);
        if (r >= 0)
                return r;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, npos > 0 ? npos : 1) < 0)
                return 1;
        husk_service_info_t *v = xcalloc((size_t)npos, sizeof(*v));
        int rc = 0;
        size_t n = 0;
        for (int i = 0; i < npos; i++) {
                husk_error_t err = { 0 };
                if (husk_service_get(store, p[i], &v[n], &err) < 0)
                        rc = cli_fail_err(c, &err);
                else
                        n++;
        }
        _cleanup_free_ char *json = husk_service_inspect_json(v, n);
        puts(json);
        husk_service_list_free(v, n);
        return rc;
}

/* ---- ps ---- */

static char *joined(char *const *v)
{
        char *out = xstrdup("");
        for (size_t i = 0; v && v[i]; i++) {
                char *o = xasprintf("%s%s%s", out, i ? " " : "", v[i]);
                free(out);
                out = o;
        }
        return out;
}

enum { COLS = 7 };

static void print_cols(char *const cols[COLS], const size_t w[COLS])
{
        for (size_t k = 0; k + 1 < COLS; k++)
                printf("%-*s", (int)(w[k] + 2), cols[k]);
        printf("%s\n", cols[COLS - 1]);
}

static void ps_table(const husk_service_info_t *v, size_t n, bool no_trunc)
{
        char *head[COLS] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };
        char *(*rows)[COLS] = xcalloc(n + 1, sizeof(*rows));
        size_t w[COLS];
        for (size_t k = 0; k < COLS; k++)
                w[k] = strlen(head[k]);
        for (size_t i = 0; i < n; i++) {
                char created[64], status[96];
                husk_service_age_text(v[i].created, created, sizeof(created));
                husk_service_status_text(&v[i], status, sizeof(status));
                char *cmd = joined(v[i].command);
                if (!no_trunc && strlen(cmd) > 20)
                        strcpy(cmd + 17, "...");
                rows[i][0] = no_trunc ? xstrdup(v[i].id) : xstrndup(v[i].id, 12);
                rows[i][1] = xstrdup(v[i].image_ref ? v[i].image_ref : "");
                rows[i][2] = cmd;
                rows[i][3] = xasprintf("%s ago", created);
                rows[i][4] = xstrdup(status);
                rows[i][5] = husk_service_ports_text(&v[i]);
                rows[i][6] = xstrdup(v[i].id);
                for (size_t k = 0; k < COLS; k++)
                        if (strlen(rows[i][k]) > w[k])
                                w[k] = strlen(rows[i][k]);
        }
        print_cols(head, w);
        for (size_t i = 0; i < n; i++) {
                print_cols(rows[i], w);
                for (size_t k = 0; k < COLS; k++)
                        free(rows[i][k]);
        }
        free(rows);
}

/* `ps` with a container id is runc's; without one, the service table. */
static bool has_positional(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--") == 0)
                        return i + 1 < argc;
                if (a[0] != '-' || !a[1])
                        return true;
                if (strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0 || strcmp(a, "--store") == 0 ||
                    strcmp(a, "-format") == 0)
                        i++; /* its value */
        }
        return false;
}

int cmd_service_ps(cli_ctx *c, int argc, char **argv)
{
        if (has_positional(argc, argv))
                return cmd_ps(c, argc, argv);
        const char *store = NULL, *format = "table";
        bool all = false, quiet = false, no_trunc = false;
        const cli_opt opts[] = {
                { "all", 'a', OPT_BOOL, &all, "also the exited ones (default: running only)" },
                { "format", 'f', OPT_STRING, &format, "table (default) or json" },
                { "quiet", 'q', OPT_BOOL, &quiet, "ids only" },
                { "no-trunc", 0, OPT_BOOL, &no_trunc, "do not shorten ids and commands" },
                { "store", 0, OPT_STRING, &store, "image store (default $HUSK_STORE or /var/lib/husk)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = parse(c, opts, argc, argv, &pos, &npos);
        if (r >= 0)
                return r;
        free(pos);
        bool json = strcmp(format, "json") == 0;
        if (!json && strcmp(format, "table") != 0)
                return cli_fail(c, "ps: invalid --format \"%s\": use table or json", format);
        husk_error_t err = { 0 };
        husk_service_info_t *v = NULL;
        size_t n = 0;
        if (husk_service_list(store, &v, &n, &err) < 0)
                return cli_fail_err(c, &err);
        size_t keep = 0;
        for (size_t i = 0; i < n; i++) {
                husk_service_status_t s = v[i].status;
                bool up = s == HUSK_SERVICE_RUNNING || s == HUSK_SERVICE_PAUSED ||
                          s == HUSK_SERVICE_RESTARTING || s == HUSK_SERVICE_STOPPING;
                if (all || up) {
                        husk_service_info_t t = v[keep];
                        v[keep++] = v[i];
                        v[i] = t;
                }
        }
        if (json) {
                _cleanup_free_ char *text = husk_service_ps_json(v, keep);
                puts(text);
        } else if (quiet) {
                for (size_t i = 0; i < keep; i++)
                        puts(v[i].id);
        } else {
                ps_table(v, keep, no_trunc);
        }
        husk_service_list_free(v, n);
        return 0;
}
