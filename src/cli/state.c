/* SPDX-License-Identifier: Apache-2.0 */
/* state, list. */
#include "cli.h"
#include "util/util.h"

#include <string.h>

int cmd_state(cli_ctx *c, int argc, char **argv)
{
        const cli_opt opts[] = { { 0 } };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 1) < 0)
                return 1;
        husk_error_t err = { 0 };
        _cleanup_free_ char *json = NULL;
        if (husk_state_json(&c->g, p[0], &json, &err) < 0)
                return cli_fail_err(c, &err);
        /* Pretty JSON without a final newline, like runc. */
        fputs(json, stdout);
        return 0;
}

static void print_row(const char *const cols[6], const size_t w[6])
{
        for (size_t k = 0; k < 5; k++)
                printf("%-*s", (int)w[k], cols[k]);
        printf("%s\n", cols[5]);
}

/* Columns padded like Go's tabwriter in runc (min width 12, padding 1). */
static void print_table(const husk_list_entry *e, size_t n)
{
        static const char *const head[6] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
        char(*pids)[16] = xcalloc(n + 1, sizeof(*pids));
        size_t w[6];
        for (size_t k = 0; k < 6; k++)
                w[k] = strlen(head[k]);
        for (size_t i = 0; i < n; i++) {
                snprintf(pids[i], sizeof(pids[i]), "%d", (int)e[i].pid);
                const char *cols[6] = { e[i].id, pids[i], husk_status_name(e[i].status), e[i].bundle,
                                        e[i].created, e[i].owner };
                for (size_t k = 0; k < 6; k++)
                        if (strlen(cols[k]) > w[k])
                                w[k] = strlen(cols[k]);
        }
        for (size_t k = 0; k < 6; k++)
                w[k] = w[k] + 1 < 12 ? 12 : w[k] + 1;
        print_row(head, w);
        for (size_t i = 0; i < n; i++) {
                const char *cols[6] = { e[i].id, pids[i], husk_status_name(e[i].status), e[i].bundle,
                                        e[i].created, e[i].owner };
                print_row(cols, w);
        }
        free(pids);
}

int cmd_list(cli_ctx *c, int argc, char **argv)
{
        const char *format = "table";
        bool quiet = false;
        const cli_opt opts[] = {
                { "format", 'f', OPT_STRING, &format, "table (default) or json" },
                { "quiet", 'q', OPT_BOOL, &quiet, "print only the container ids" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        free(pos);
        if (cli_want_args(c, npos, 0, 0) < 0)
                return 1;
        bool json = strcmp(format, "json") == 0;
        if (!json && strcmp(format, "table") != 0)
                return cli_fail(c, "list: invalid --format \"%s\": use table or json", format);
        husk_error_t err = { 0 };
        if (json && !quiet) {
                _cleanup_free_ char *doc = NULL;
                if (husk_list_json(&c->g, &doc, &err) < 0)
                        return cli_fail_err(c, &err);
                puts(doc);
                return 0;
        }
        husk_list_entry *e = NULL;
        size_t n = 0;
        if (husk_list(&c->g, &e, &n, &err) < 0)
                return cli_fail_err(c, &err);
        if (quiet)
                for (size_t i = 0; i < n; i++)
                        puts(e[i].id);
        else
                print_table(e, n);
        husk_list_free(e, n);
        return 0;
}
