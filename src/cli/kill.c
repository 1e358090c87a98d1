/* SPDX-License-Identifier: Apache-2.0 */
/* kill, delete. */
#include "cli.h"
#include "util/util.h"

#include <signal.h>

int cmd_kill(cli_ctx *c, int argc, char **argv)
{
        bool all = false;
        const cli_opt opts[] = {
                { "all", 'a', OPT_BOOL, &all,
                  "signal every process of the container's cgroup (shared pid namespace)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 2) < 0)
                return 1;
        int signo = SIGTERM;
        if (npos == 2 && cli_parse_signal(p[1], &signo) < 0)
                return cli_fail(c, "kill: invalid signal \"%s\"", p[1]);
        husk_error_t err = { 0 };
        if (husk_kill(&c->g, p[0], signo, all, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

int cmd_delete(cli_ctx *c, int argc, char **argv)
{
        bool force = false;
        const cli_opt opts[] = {
                { "force", 'f', OPT_BOOL, &force,
                  "kill a running container first; an unknown id is not an error" },
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
        husk_error_t err = { 0 };
        if (husk_delete(&c->g, p[0], force, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

int cmd_spec(cli_ctx *c, int argc, char **argv)
{
        const char *bundle = NULL;
        bool rootless = false;
        const cli_opt opts[] = {
                { "bundle", 'b', OPT_STRING, &bundle, "bundle directory (default: current directory)" },
                { "rootless", 0, OPT_BOOL, &rootless, "a spec for a container run by an unprivileged user" },
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
        husk_error_t err = { 0 };
        if (husk_spec(bundle, rootless, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}
