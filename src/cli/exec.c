/* SPDX-License-Identifier: Apache-2.0 */
/* exec: run a new process in a container. Options come before the id; everything after the id is
 * the command (runc's parser stops there too, so `exec ID sh -c X` keeps its -c). */
#include "cli.h"
#include "util/util.h"

#include <stddef.h>
#include <string.h>

/* runc's exit code for any exec failure (ENGINES.md 5.7). */
#define EXEC_FAILED 255

/* Repeatable options collected before cli_parse sees the rest. */
typedef struct multi {
        char **v;
        size_t n;
} multi;

static void multi_add(multi *m, char *s)
{
        m->v = xrealloc(m->v, (m->n + 2) * sizeof(char *));
        m->v[m->n++] = s;
        m->v[m->n] = NULL;
}

/* The repeatable options: --env/-e, --cap/-c, --additional-gids/-g, --cgroup. */
typedef struct multis {
        multi env, caps, gids, cgroups;
} multis;

/* Returns true (and collects the value) when argv[*i] is a repeatable option. */
static bool take_multi(char **argv, int argc, int *i, multis *m, bool *bad)
{
        const char *a = argv[*i];
        const char *name = a + 1;
        if (*name == '-')
                name++;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        static const struct {
                const char *name;
                char short_name;
                size_t off;
        } reps[] = {
                { "env", 'e', offsetof(multis, env) },
                { "cap", 'c', offsetof(multis, caps) },
                { "additional-gids", 'g', offsetof(multis, gids) },
                { "cgroup", 0, offsetof(multis, cgroups) },
        };
        multi *dst = NULL;
        for (size_t k = 0; k < ARRAY_SIZE(reps) && !dst; k++)
                if ((len == strlen(reps[k].name) && strncmp(name, reps[k].name, len) == 0) ||
                    (a[1] != '-' && len == 1 && reps[k].short_name &&
                     name[0] == reps[k].short_name))
                        dst = (multi *)((char *)m + reps[k].off);
        if (!dst)
                return false;
        if (eq) {
                multi_add(dst, (char *)eq + 1);
        } else if (*i + 1 < argc) {
                multi_add(dst, argv[++*i]);
        } else {
                *bad = true;
        }
        return true;
}

static bool takes_value(const cli_opt *opts, const char *a)
{
        const char *name = a + 1;
        if (*name == '-')
                name++;
        if (strchr(name, '='))
                return false;
        for (const cli_opt *o = opts; o->name; o++)
                if ((strcmp(o->name, name) == 0 ||
                     (a[1] != '-' && o->short_name && name[0] == o->short_name && !name[1])))
                        return o->type != OPT_BOOL;
        return false;
}

int cmd_exec(cli_ctx *c, int argc, char **argv)
{
        husk_exec_opts_t o = { 0 };
        const char *process = NULL, *cwd = NULL, *user = NULL, *pid_file = NULL,
                   *console = NULL, *apparmor = NULL, *label = NULL;
        bool detach = false, tty = false, nnp = false, ignore_paused = false;
        unsigned preserve = 0;
        const cli_opt opts[] = {
                { "process", 'p', OPT_STRING, &process, "the process as OCI process JSON in FILE" },
                { "detach", 'd', OPT_BOOL, &detach, "do not wait for the process" },
                { "pid-file", 0, OPT_STRING, &pid_file, "write the process's host pid to FILE" },
                { "tty", 't', OPT_BOOL, &tty, "allocate a pty (argv form)" },
                { "console-socket", 0, OPT_STRING, &console,
                  "send the pty master to the AF_UNIX socket at PATH" },
                { "preserve-fds", 0, OPT_UINT, &preserve, "pass fds 3 .. 3+N-1 to the process" },
                { "cwd", 0, OPT_STRING, &cwd, "working directory (argv form)" },
                { "env", 'e', OPT_STRING, NULL, "KEY=VALUE added to the environment (repeatable)" },
                { "user", 'u', OPT_STRING, &user, "UID[:GID] (argv form)" },
                { "cap", 'c', OPT_STRING, NULL, "add a capability, e.g. CAP_NET_ADMIN (repeatable)" },
                { "additional-gids", 'g', OPT_STRING, NULL,
                  "an additional group id of the process (repeatable; argv form)" },
                { "cgroup", 0, OPT_STRING, NULL,
                  "run in an existing sub-cgroup of the container's: PATH, or "
                  "CONTROLLER[,CONTROLLER...]:PATH (repeatable)" },
                { "no-new-privs", 0, OPT_BOOL, &nnp, "set no_new_privs (argv form)" },
                { "apparmor", 0, OPT_STRING, &apparmor, "not supported (must be empty)" },
                { "process-label", 0, OPT_STRING, &label, "not supported (must be empty)" },
                { "ignore-paused", 0, OPT_BOOL, &ignore_paused, "allow exec into a paused container" },
                { 0 },
        };
        /* Split: options and the id go to cli_parse, the rest is the command. */
        multis m = { 0 };
        _cleanup_free_ char **front = xcalloc((size_t)argc + 1, sizeof(char *));
        int nfront = 0, i = 1;
        bool bad = false;
        front[nfront++] = argv[0];
        for (; i < argc; i++) {
                char *a = argv[i];
                if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                }
                if (a[0] != '-' || a[1] == '\0')
                        break;
                if (take_multi(argv, argc, &i, &m, &bad))
                        continue;
                front[nfront++] = a;
                if (takes_value(opts, a) && i + 1 < argc)
                        front[nfront++] = argv[++i];
        }
        if (i < argc)
                front[nfront++] = argv[i++]; /* the id */
        _cleanup_free_ char **env_v = m.env.v, **caps_v = m.caps.v, **gids_v = m.gids.v,
                            **cg_v = m.cgroups.v;
        _cleanup_free_ uint32_t *gids = xcalloc(m.gids.n + 1, sizeof(uint32_t));
        if (bad)
                return cli_fail(c, "exec: option --env/--cap/--additional-gids/--cgroup needs a "
                                   "value");
        for (size_t k = 0; k < m.gids.n; k++)
                if (parse_uint32(m.gids.v[k], &gids[k]) < 0)
                        return cli_fail(c, "exec: invalid --additional-gids \"%s\": a group id "
                                           "(a number)",
                                        m.gids.v[k]);
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, nfront, front, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 1) < 0)
                return 1;
        if ((apparmor && apparmor[0]) || (label && label[0]))
                return cli_fail(c, "exec failed: husk does not support AppArmor or SELinux labels");
        if (!process && i >= argc)
                return cli_fail(c, "exec: missing the command: husk exec [options] ID COMMAND "
                                   "[ARGS...] (or --process FILE)");
        o.id = p[0];
        o.process_path = process;
        o.args = argv + i;
        o.n_args = (size_t)(argc - i);
        o.cwd = cwd;
        o.env = m.env.v;
        o.n_env = m.env.n;
        o.additional_gids = gids;
        o.n_additional_gids = m.gids.n;
        o.cgroups = m.cgroups.v;
        o.n_cgroups = m.cgroups.n;
        o.user = user;
        o.caps = m.caps.v;
        o.n_caps = m.caps.n;
        o.no_new_privs = nnp;
        o.tty = tty;
        o.detach = detach;
        o.pid_file = pid_file;
        o.console_socket = console;
        o.preserve_fds = preserve;
        o.ignore_paused = ignore_paused;
        husk_error_t err = { 0 };
        int status = 0;
        if (husk_exec(&c->g, &o, &status, &err) < 0) {
                husk_error_prefix(&err, "exec failed");
                cli_fail_err(c, &err);
                return EXEC_FAILED;
        }
        return detach ? 0 : status;
}
