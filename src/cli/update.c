/* SPDX-License-Identifier: Apache-2.0 */
/* pause, resume, update, ps: the cgroup-facing commands. */
#include "cli.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>

#define RESOURCES_MAX (4 * 1024 * 1024)

/* A command whose only argument is the id. */
static int one_id(cli_ctx *c, int argc, char **argv, const cli_opt *opts, char **ret_id)
{
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 1) < 0)
                return -1;
        *ret_id = p[0];
        return 0;
}

int cmd_pause(cli_ctx *c, int argc, char **argv)
{
        const cli_opt opts[] = { { 0 } };
        char *id = NULL;
        int r = one_id(c, argc, argv, opts, &id);
        if (r != 0)
                return r > 0 ? 0 : 1;
        husk_error_t err = { 0 };
        if (husk_pause(&c->g, id, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

int cmd_resume(cli_ctx *c, int argc, char **argv)
{
        const cli_opt opts[] = { { 0 } };
        char *id = NULL;
        int r = one_id(c, argc, argv, opts, &id);
        if (r != 0)
                return r > 0 ? 0 : 1;
        husk_error_t err = { 0 };
        if (husk_resume(&c->g, id, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

int cmd_update(cli_ctx *c, int argc, char **argv)
{
        const char *resources = NULL;
        const cli_opt opts[] = {
                { "resources", 'r', OPT_STRING, &resources,
                  "OCI LinuxResources JSON from FILE, or - for standard input" },
                { 0 },
        };
        char *id = NULL;
        int r = one_id(c, argc, argv, opts, &id);
        if (r != 0)
                return r > 0 ? 0 : 1;
        if (!resources)
                return cli_fail(c, "update: --resources FILE|- is required (the runc-style "
                                   "--memory/--cpu-* flags are not supported)");
        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        bool in = strcmp(resources, "-") == 0;
        r = read_file_at(AT_FDCWD, in ? "/dev/stdin" : resources, RESOURCES_MAX, &json,
                         &len);
        if (r < 0)
                return cli_fail(c, "update: read %s: %s", in ? "standard input" : resources,
                                strerror(-r));
        husk_error_t err = { 0 };
        if (husk_update(&c->g, id, json, len, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

static void print_ps_table(const pid_t *pids, size_t n)
{
        printf("%-10s %s\n", "PID", "CMD");
        for (size_t i = 0; i < n; i++) {
                char path[64];
                _cleanup_free_ char *cmd = NULL;
                size_t len = 0;
                snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pids[i]);
                if (read_file_at(AT_FDCWD, path, 4096, &cmd, &len) < 0)
                        continue; /* exited meanwhile */
                for (size_t k = 0; k + 1 < len; k++)
                        if (cmd[k] == '\0')
                                cmd[k] = ' ';
                printf("%-10d %s\n", (int)pids[i], cmd);
        }
}

int cmd_ps(cli_ctx *c, int argc, char **argv)
{
        const char *format = "table";
        const cli_opt opts[] = {
                { "format", 'f', OPT_STRING, &format, "table (default) or json (an array of pids)" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        /* runc passes extra arguments to ps(1); husk prints its own table and takes none. */
        if (cli_want_args(c, npos, 1, 1) < 0)
                return 1;
        bool json = strcmp(format, "json") == 0;
        if (!json && strcmp(format, "table") != 0)
                return cli_fail(c, "ps: invalid --format \"%s\": use table or json", format);
        husk_error_t err = { 0 };
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (husk_ps(&c->g, p[0], &pids, &n, &err) < 0)
                return cli_fail_err(c, &err);
        if (!json) {
                print_ps_table(pids, n);
                return 0;
        }
        /* containerd parses stdout+stderr together as []int: print only the array. */
        putchar('[');
        for (size_t i = 0; i < n; i++)
                printf(i ? ",%d" : "%d", (int)pids[i]);
        puts("]");
        return 0;
}
