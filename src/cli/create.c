/* SPDX-License-Identifier: Apache-2.0 */
/* create, run, start. */
#include "cli.h"
#include "run_image.h"
#include "util/util.h"

typedef struct create_args {
        husk_create_opts_t o;
        bool detach;
        uint64_t phase_ns[HUSK_PHASE_COUNT];
} create_args;

/* --debug: the phase timings create measured. */
static void debug_phases(cli_ctx *c, const create_args *a)
{
        if (!c->g.debug)
                return;
        for (unsigned i = 0; i < HUSK_PHASE_COUNT; i++)
                if (a->phase_ns[i])
                        cli_debug(c, "%s %s: phase %s took %.3f ms", c->command, a->o.id,
                                  husk_phase_name(i), (double)a->phase_ns[i] / 1e6);
}

/* systemd socket activation: LISTEN_FDS=N meant for this process (LISTEN_PID is our pid) passes
 * fds 3..3+N-1 on to the container, before any --preserve-fds ones, as runc does. */
static unsigned listen_fds(void)
{
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        int p = 0;
        uint32_t n = 0;
        if (!pid || !fds || parse_int(pid, &p) < 0 || p != (int)getpid() || parse_uint32(fds, &n) < 0)
                return 0;
        return n > 1024 ? 0 : n;
}

static int parse_create(cli_ctx *c, bool run, int argc, char **argv, create_args *a)
{
        husk_create_opts_t *o = &a->o;
        /* run and create share the flags; create accepts --detach too (go-runc may pass it) and
         * ignores it: create always returns once the container is created. */
        const cli_opt opts[] = {
                { "bundle", 'b', OPT_STRING, &o->bundle, "bundle directory (default: current directory)" },
                { "pid-file", 0, OPT_STRING, &o->pid_file, "write the container's pid (digits only) to FILE" },
                { "console-socket", 0, OPT_STRING, &o->console_socket,
                  "AF_UNIX socket that receives the pty master (process.terminal)" },
                { "preserve-fds", 0, OPT_UINT, &o->preserve_fds, "pass N more fds (3..3+N-1) to the container" },
                { "no-pivot", 0, OPT_BOOL, &o->no_pivot, "use chroot instead of pivot_root (unsafe)" },
                { "no-new-keyring", 0, OPT_BOOL, &o->no_new_keyring, "keep the session keyring" },
                { "detach", 'd', OPT_BOOL, &a->detach,
                  run ? "return once the container has started" : "accepted for compatibility" },
                { run ? "keep" : NULL /* the end of create's table */, 0, OPT_BOOL, &o->keep,
                  "do not delete the container after it exits" },
                { 0 },
        };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r;
        if (cli_want_args(c, npos, 1, 1) < 0) {
                free(pos);
                return -1;
        }
        o->id = pos[0];
        free(pos);
        if (c->g.systemd_cgroup)
                return -cli_fail(c, "--systemd-cgroup is not supported: husk manages cgroups "
                                    "through cgroupfs and needs no systemd");
        husk_error_t err = { 0 };
        if (husk_id_validate(o->id, &err) < 0)
                return -cli_fail_err(c, &err);
        o->detach = a->detach;
        o->listen_fds = listen_fds();
        if (c->g.debug)
                o->phase_ns = a->phase_ns;
        return 0;
}

/* --debug: the per-phase durations of the create (STYLE.md section 5 steps), then the whole
 * command as the CLI saw it. The phases are also kept in state.json (startPhaseNs). */
static void print_phases(cli_ctx *c, const uint64_t *phase, uint64_t t0, uint64_t t_end)
{
        char line[512];
        size_t n = 0;
        for (unsigned i = 0; i < HUSK_PHASE_COUNT && n < sizeof(line); i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%.3f", husk_phase_name(i),
                                      (double)phase[i] / 1e6);
        cli_debug(c, "start phases (ms):%s; command %.3f", line, (double)(t_end - t0) / 1e6);
}

int cmd_create(cli_ctx *c, int argc, char **argv)
{
        create_args a = { 0 };
        int r = parse_create(c, false, argc, argv, &a);
        if (r != 0)
                return r > 0 ? 0 : 1;
        a.o.detach = false;
        uint64_t phase[HUSK_PHASE_COUNT] = { 0 }, t0 = now_ns();
        if (c->g.debug)
                a.o.phase_ns = phase;
        husk_error_t err = { 0 };
        r = husk_create(&c->g, &a.o, &err);
        debug_phases(c, &a);
        if (r < 0)
                return cli_fail_err(c, &err);
        if (c->g.debug)
                print_phases(c, phase, t0, now_ns());
        return 0;
}

int cmd_run(cli_ctx *c, int argc, char **argv)
{
        /* `husk run [OPTIONS] IMAGE [COMMAND...]` (src/cli/run_image.c); `run -b BUNDLE ID` and
         * every runc form stay here. */
        if (cli_run_wants_image(argc, argv))
                return cli_run_image(c, argc, argv);
        create_args a = { 0 };
        int r = parse_create(c, true, argc, argv, &a);
        if (r > 0)
                cli_run_image_usage(); /* --help was printed: add the image mode's options */
        if (r != 0)
                return r > 0 ? 0 : 1;
        uint64_t phase[HUSK_PHASE_COUNT] = { 0 }, t0 = now_ns();
        if (c->g.debug)
                a.o.phase_ns = phase;
        husk_error_t err = { 0 };
        int status = 0;
        r = husk_run(&c->g, &a.o, &status, &err);
        debug_phases(c, &a);
        if (r < 0)
                return cli_fail_err(c, &err);
        if (c->g.debug)
                print_phases(c, phase, t0, now_ns());
        return a.detach ? 0 : status;
}

int cmd_start(cli_ctx *c, int argc, char **argv)
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
        if (husk_start(&c->g, p[0], &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}
