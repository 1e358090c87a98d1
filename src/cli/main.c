/* SPDX-License-Identifier: Apache-2.0 */
/* husk command line: global options and the command table. Each command lives in its own file. */
#include "cli.h"
#include "image.h"
#include "run_image.h"
#include "husk/image.h"
#include "util/util.h"

#include <string.h>
#include <unistd.h>

/* `husk image ...` has its own sub-commands and output (src/cli/image.c). */
static int cmd_image(cli_ctx *c, int argc, char **argv)
{
        return cli_image(&c->g, argc, argv);
}

static const cli_cmd commands[] = {
        { "create", cmd_create, "CONTAINER_ID", "Create a container from a bundle; it waits for `start`." },
        { "start", cmd_start, "CONTAINER_ID", "Start the user process of a created container." },
        { "run", cmd_run, "CONTAINER_ID | [OPTIONS] IMAGE [COMMAND...]",
          "Create and start a container from a bundle or from an image (options: husk run "
          "--help); without --detach, wait for it, delete it and exit with its status." },
        { "state", cmd_state, "CONTAINER_ID", "Print the state of a container as JSON." },
        { "list", cmd_list, "", "List the containers." },
        { "kill", cmd_kill, "CONTAINER_ID [SIGNAL]",
          "Send a signal (default SIGTERM; a number, KILL or SIGKILL) to the container's init." },
        { "delete", cmd_delete, "CONTAINER_ID", "Delete a container and everything it holds." },
        { "pause", cmd_pause, "CONTAINER_ID", "Freeze every process of the container." },
        { "resume", cmd_resume, "CONTAINER_ID", "Thaw a paused container." },
        { "update", cmd_update, "CONTAINER_ID",
          "Change the resource limits of a container (OCI LinuxResources JSON)." },
        { "ps", cmd_service_ps, "[CONTAINER_ID [PS_OPTIONS...]]",
          "With an id: the processes of a container (ps -ef, or the ps(1) options given after "
          "the id). Without: the containers of husk run -d (-a: also exited ones)." },
        { "spec", cmd_spec, "", "Write a default config.json into the bundle." },
        { "exec", cmd_exec, "CONTAINER_ID [COMMAND [ARGS...]]",
          "Run a new process in a container (--process FILE or the command line)." },
        { "events", cmd_events, "CONTAINER_ID",
          "Print resource usage statistics as JSON lines every --interval (default 5s), and "
          "{\"type\":\"oom\"} at each OOM, until the container stops (--stats: once)." },
        { "features", cmd_features, "", "Print the features husk supports as JSON." },
        { "checkpoint", cmd_checkpoint, "CONTAINER_ID", "Checkpoint a container (not supported)." },
        { "restore", cmd_restore, "CONTAINER_ID", "Restore a container (not supported)." },
        { "logs", cmd_logs, "NAME", "Print the output of a container started with husk run -d." },
        { "stop", cmd_stop, "NAME...", "Stop a container of husk run -d (StopSignal, then SIGKILL)." },
        { "restart", cmd_restart, "NAME...", "Stop and start again a container of husk run -d." },
        { "rm", cmd_rm, "NAME...", "Remove a container of husk run -d with its folder and logs." },
        { "inspect", cmd_inspect, "NAME...", "Print the details of containers of husk run -d as JSON." },
        { "fn", cmd_fn, "create|ls|inspect|rm|update|logs|serve|invoke ...",
          "Lambda-style functions (husk fn --help)." },
        { "serve", cmd_serve, "[--listen ADDR:PORT] [--no-auth] ... | credentials",
          "Serve the Lambda and SQS APIs and run the functions (husk serve --help)." },
        { "queue", cmd_queue, "create|ls|inspect|rm|purge|send|receive|delete|redrive ...",
          "SQS queues of the running husk serve (husk queue --help)." },
        { "api", cmd_api, "create|ls|inspect|rm|routes|route|stage ...",
          "HTTP APIs (API Gateway's) of the running husk serve (husk api --help)." },
        { "image", cmd_image, "load|ls|inspect|rm|prune ...",
          "Manage the local image store (husk image --help)." },
        { "network", cmd_network, "ls|create|rm|inspect ...",
          "Manage the CNI networks of `husk run` (husk network --help)." },
        { "system", cmd_system, "prune", "Remove every leftover of dead containers (mounts, cgroups, networks, folders)." },
};

const cli_cmd *cli_find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

/* The commands whose process (or a monitor it forks) clones container code: they re-execute from a
 * sealed image of husk first (husk_exe_seal). */
static bool starts_containers(const char *name)
{
        static const char *const names[] = { "create", "run", "exec", "restart" };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (strcmp(names[i], name) == 0)
                        return true;
        return false;
}

static void usage(FILE *out)
{
        fputs("Usage: husk [global options] COMMAND [options] [arguments]\n\n"
              "husk is a lightweight OCI container runtime with a runc-compatible command line.\n\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
        fputs("\nGlobal options (before the command):\n"
              "  --root DIR             state directory (default /run/husk; as a user\n"
              "                         $XDG_RUNTIME_DIR/husk)\n"
              "  --log FILE             append error and debug lines to FILE\n"
              "  --log-format FORMAT    text (default) or json: {\"level\",\"msg\",\"time\"} per line\n"
              "  --debug                extra detail in the log\n"
              "  --systemd-cgroup       not supported (husk drives cgroupfs directly)\n"
              "  --version, -v          print the version of husk and its libraries\n"
              "  --help, -h             show this help\n\n"
              "`husk COMMAND --help` describes a command's options.\n",
              out);
}

/* Global options: --name VALUE or --name=VALUE. Returns the index of the command, or -1 after a
 * reported error, or -2 when help/version was printed. */
static int parse_global(cli_ctx *c, int argc, char **argv)
{
        const char *fmt = NULL, *ignored = NULL;
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                char *a = argv[i];
                const char *name = a[1] == '-' ? a + 2 : a + 1;
                const char *eq = strchr(name, '=');
                size_t len = eq ? (size_t)(eq - name) : strlen(name);
                const char **dst = NULL;
#define IS(s) (len == strlen(s) && strncmp(name, s, len) == 0)
                if (IS("version") || IS("v")) {
                        fputs(husk_version(), stdout);
                        return -2;
                } else if (IS("help") || IS("h")) {
                        usage(stdout);
                        return -2;
                } else if (IS("debug")) {
                        c->g.debug = true;
                } else if (IS("systemd-cgroup")) {
                        c->g.systemd_cgroup = true;
                } else if (IS("root")) {
                        dst = &c->g.root;
                } else if (IS("log")) {
                        dst = &c->log_path;
                } else if (IS("log-format")) {
                        dst = &fmt;
                } else if (IS("criu") || IS("rootless") || IS("cgroup-manager")) {
                        dst = &ignored; /* runc flags engines may pass; nothing to do in husk */
                } else {
                        return -cli_fail(c, "unknown global option %.*s (see husk --help)",
                                           (int)(len + (size_t)(name - a)), a);
                }
#undef IS
                if (!dst)
                        continue;
                if (eq) {
                        *dst = eq + 1;
                } else if (i + 1 < argc) {
                        *dst = argv[++i];
                } else {
                        return -cli_fail(c, "global option %s needs a value", a);
                }
                if (dst == &fmt) {
                        if (strcmp(fmt, "json") == 0)
                                c->log_json = true;
                        else if (strcmp(fmt, "text") == 0)
                                c->log_json = false;
                        else
                                return -cli_fail(c, "invalid --log-format \"%s\": use text or json", fmt);
                }
                if (dst == &c->g.root && !c->g.root[0])
                        return -cli_fail(c, "--root needs a non-empty directory");
        }
        return i;
}

/* The commands that neither keep state under --root nor use the image store. */
static bool needs_no_root(const cli_cmd *cmd, int argc, char **argv)
{
        if (strcmp(cmd->name, "spec") == 0 || strcmp(cmd->name, "features") == 0)
                return true;
        /* Clients of the running server: no state of their own (the server checks who may). */
        if (strcmp(cmd->name, "queue") == 0 ||
            (strcmp(cmd->name, "serve") == 0 && argc > 1 && strcmp(argv[1], "credentials") == 0))
                return true;
        for (int k = 1; k < argc; k++)
                if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0 ||
                    strcmp(argv[k], "help") == 0)
                        return true;
        return false;
}

/* The commands of images, services, networks and functions: as a user, they run in the user's own
 * namespace (husk_rootless_enter), where layers hold the image's owners. The runc-style commands
 * of bundles do not: a rootless bundle maps the user's host ids itself. */
static bool uses_image_store(const cli_cmd *cmd, int argc, char **argv)
{
        static const char *const names[] = { "image", "logs",   "stop", "restart", "rm",
                                             "inspect", "system", "network", "fn",  "ps",
                                             "serve" };
        if (strcmp(cmd->name, "run") == 0)
                return cli_run_wants_image(argc, argv);
        for (size_t k = 0; k < ARRAY_SIZE(names); k++)
                if (strcmp(names[k], cmd->name) == 0)
                        return true;
        return false;
}

int main(int argc, char **argv)
{
        cli_ctx c = { .command = "husk" };
        cli_log_init(&c);
        int i = parse_global(&c, argc, argv);
        if (i == -2)
                return 0;
        if (i < 0)
                return 1;
        if (i >= argc) {
                usage(stderr);
                return cli_fail(&c, "no command given");
        }
        if (strcmp(argv[i], "help") == 0) {
                const cli_cmd *h = i + 1 < argc ? cli_find_command(argv[i + 1]) : NULL;
                if (i + 1 < argc && !h) {
                        cli_fail(&c, "unknown command '%s' (see husk --help)", argv[i + 1]);
                        return 2;
                }
                if (h) {
                        char *hv[] = { argv[i + 1], (char *)"--help", NULL };
                        c.command = h->name;
                        return h->run(&c, 2, hv);
                }
                usage(stdout);
                return 0;
        }
        const cli_cmd *cmd = cli_find_command(argv[i]);
        if (!cmd) {
                cli_fail(&c, "unknown command '%s' (see husk --help)", argv[i]);
                return 2;
        }
        c.command = cmd->name;
        if (!c.g.root && !needs_no_root(cmd, argc - i, argv + i)) {
                husk_error_t err = { 0 };
                if (husk_default_root_check(&err) < 0)
                        return cli_fail(&c, "%s", err.msg);
        }
        if (starts_containers(cmd->name)) {
                /* CVE-2019-5736: container code must never run from the writable host binary. */
                husk_error_t err = { 0 };
                if (husk_exe_seal(argv, &err) < 0)
                        return cli_fail(&c, "%s", err.msg);
        }
        bool entered = false;
        if (geteuid() != 0 && !needs_no_root(cmd, argc - i, argv + i) &&
            uses_image_store(cmd, argc - i, argv + i)) {
                husk_error_t err = { 0 };
                if (husk_rootless_enter(&err) < 0)
                        return cli_fail(&c, "%s", err.msg);
                entered = true;
        }
        cli_debug(&c, "command %s, root %s", cmd->name, c.g.root ? c.g.root : "(default)");
        int rc = cmd->run(&c, argc - i, argv + i);
        if (entered)
                husk_rootless_stop_if_idle(c.g.root ? c.g.root : husk_default_root(),
                                           husk_image_store_path(NULL));
        return rc;
}
