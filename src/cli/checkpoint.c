/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint, restore: runc's flags are accepted (podman probes `checkpoint --help`), but husk has
 * no CRIU integration: `criu dump` fails on the hosts husk is tested on, so a real checkpoint or
 * restore returns a clear error instead of a half-written image. */
#include "cli.h"
#include "util/util.h"

static int not_supported(cli_ctx *c, int argc, char **argv, const cli_opt *opts)
{
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (cli_want_args(c, npos, 1, 1) < 0)
                return 1;
        return cli_fail(c, "%s of container %s is not supported: husk has no CRIU support "
                           "(checkpoint/restore needs CRIU, and criu dump fails on this host)",
                        c->command, p[0]);
}

int cmd_checkpoint(cli_ctx *c, int argc, char **argv)
{
        const char *image = NULL, *work = NULL, *parent = NULL, *page = NULL, *mns = NULL,
                   *cgm = NULL, *status_fd = NULL;
        bool leave = false, tcp = false, ext = false, shell = false, lazy = false, fl = false,
             pre = false, auto_dedup = false;
        const cli_opt opts[] = {
                { "image-path", 0, OPT_STRING, &image, "CRIU image directory" },
                { "work-path", 0, OPT_STRING, &work, "CRIU work directory" },
                { "parent-path", 0, OPT_STRING, &parent, "parent image (pre-dump)" },
                { "leave-running", 0, OPT_BOOL, &leave, "leave the container running" },
                { "tcp-established", 0, OPT_BOOL, &tcp, "checkpoint open TCP connections" },
                { "ext-unix-sk", 0, OPT_BOOL, &ext, "allow external unix sockets" },
                { "shell-job", 0, OPT_BOOL, &shell, "allow shell jobs" },
                { "lazy-pages", 0, OPT_BOOL, &lazy, "use lazy migration" },
                { "status-fd", 0, OPT_STRING, &status_fd, "fd to report the lazy-pages server" },
                { "page-server", 0, OPT_STRING, &page, "ADDRESS:PORT of a page server" },
                { "file-locks", 0, OPT_BOOL, &fl, "handle file locks" },
                { "pre-dump", 0, OPT_BOOL, &pre, "dump memory only, leave it running" },
                { "manage-cgroups-mode", 0, OPT_STRING, &cgm, "soft, full, strict or ignore" },
                { "empty-ns", 0, OPT_STRING, &mns, "namespace not to checkpoint" },
                { "auto-dedup", 0, OPT_BOOL, &auto_dedup, "deduplicate memory images" },
                { 0 },
        };
        return not_supported(c, argc, argv, opts);
}

int cmd_restore(cli_ctx *c, int argc, char **argv)
{
        const char *image = NULL, *work = NULL, *bundle = NULL, *pid_file = NULL,
                   *console = NULL, *cgm = NULL, *mns = NULL;
        bool detach = false, tcp = false, ext = false, shell = false, fl = false, no_sub = false,
             no_pivot = false, lazy = false, auto_dedup = false;
        const cli_opt opts[] = {
                { "image-path", 0, OPT_STRING, &image, "CRIU image directory" },
                { "work-path", 0, OPT_STRING, &work, "CRIU work directory" },
                { "bundle", 'b', OPT_STRING, &bundle, "bundle directory" },
                { "pid-file", 0, OPT_STRING, &pid_file, "write the pid to FILE" },
                { "console-socket", 0, OPT_STRING, &console, "console socket" },
                { "detach", 'd', OPT_BOOL, &detach, "detach from the container" },
                { "tcp-established", 0, OPT_BOOL, &tcp, "restore TCP connections" },
                { "ext-unix-sk", 0, OPT_BOOL, &ext, "allow external unix sockets" },
                { "shell-job", 0, OPT_BOOL, &shell, "allow shell jobs" },
                { "file-locks", 0, OPT_BOOL, &fl, "handle file locks" },
                { "no-subreaper", 0, OPT_BOOL, &no_sub, "do not become a subreaper" },
                { "no-pivot", 0, OPT_BOOL, &no_pivot, "do not use pivot_root" },
                { "lazy-pages", 0, OPT_BOOL, &lazy, "use lazy migration" },
                { "manage-cgroups-mode", 0, OPT_STRING, &cgm, "soft, full, strict or ignore" },
                { "empty-ns", 0, OPT_STRING, &mns, "namespace not to restore" },
                { "auto-dedup", 0, OPT_BOOL, &auto_dedup, "deduplicate memory images" },
                { 0 },
        };
        return not_supported(c, argc, argv, opts);
}
