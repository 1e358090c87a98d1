/* SPDX-License-Identifier: Apache-2.0 */
/* pause, resume, update, ps: the cgroup-facing commands. */
#include "cli.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- runc-style flags (engines) ---- */

/* "200m", "1g", "4096", "512k", "1.5g" is not accepted: docker's RAMInBytes without fractions.
 * Binary multiples, case-insensitive, an optional trailing "b"; "-1" means unlimited. */
static int parse_bytes(const char *s, int64_t *ret)
{
        if (strcmp(s, "-1") == 0) {
                *ret = -1;
                return 0;
        }
        size_t n = strspn(s, "0123456789");
        if (n == 0 || n > 18)
                return -EINVAL;
        char num[24];
        memcpy(num, s, n);
        num[n] = '\0';
        uint64_t v;
        if (parse_uint64(num, &v) < 0)
                return -EINVAL;
        const char *u = s + n;
        int shift = 0;
        switch (*u | 0x20) {
        case 'k': shift = 10; u++; break;
        case 'm': shift = 20; u++; break;
        case 'g': shift = 30; u++; break;
        case 't': shift = 40; u++; break;
        case 'p': shift = 50; u++; break;
        default: break;
        }
        if ((*u | 0x20) == 'b')
                u++;
        if (*u || (shift && v > (UINT64_MAX >> 1) >> shift))
                return -EINVAL;
        *ret = (int64_t)(v << shift);
        return 0;
}

typedef struct update_flags {
        const char *memory, *memory_swap, *memory_reservation, *kernel_memory, *cpu_shares,
                *cpu_quota, *cpu_period, *cpu_rt_period, *cpu_rt_runtime, *cpuset_cpus,
                *cpuset_mems, *pids_limit, *blkio_weight;
} update_flags;

static bool any_flag(const update_flags *f)
{
        const char *const *v = (const char *const *)f;
        for (size_t i = 0; i < sizeof(*f) / sizeof(char *); i++)
                if (v[i])
                        return true;
        return false;
}

/* One numeric field: bytes (memory) or a plain integer. */
static int add_num(cli_ctx *c, json_writer *w, const char *key, const char *flag, const char *v,
                   bool bytes)
{
        if (!v)
                return 0;
        int64_t n;
        if (bytes ? parse_bytes(v, &n) < 0 : parse_int64(v, &n) < 0)
                return -cli_fail(c, "update: invalid value \"%s\" for --%s", v, flag);
        json_kv_int(w, key, n);
        return 0;
}

/* The flags as an OCI LinuxResources document (what `update --resources` reads). */
static char *flags_to_json(cli_ctx *c, const update_flags *f)
{
        json_writer *w = json_writer_new(false);
        int r = 0;
        json_obj_begin(w);
        if (f->memory || f->memory_swap || f->memory_reservation || f->kernel_memory) {
                json_key(w, "memory");
                json_obj_begin(w);
                if ((r = add_num(c, w, "limit", "memory", f->memory, true)) < 0 ||
                    (r = add_num(c, w, "swap", "memory-swap", f->memory_swap, true)) < 0 ||
                    (r = add_num(c, w, "reservation", "memory-reservation", f->memory_reservation,
                                 true)) < 0 ||
                    (r = add_num(c, w, "kernel", "kernel-memory", f->kernel_memory, true)) < 0)
                        goto fail;
                json_obj_end(w);
        }
        if (f->cpu_shares || f->cpu_quota || f->cpu_period || f->cpu_rt_period ||
            f->cpu_rt_runtime || f->cpuset_cpus || f->cpuset_mems) {
                json_key(w, "cpu");
                json_obj_begin(w);
                if ((r = add_num(c, w, "shares", "cpu-shares", f->cpu_shares, false)) < 0 ||
                    (r = add_num(c, w, "quota", "cpu-quota", f->cpu_quota, false)) < 0 ||
                    (r = add_num(c, w, "period", "cpu-period", f->cpu_period, false)) < 0 ||
                    (r = add_num(c, w, "realtimePeriod", "cpu-rt-period", f->cpu_rt_period,
                                 false)) < 0 ||
                    (r = add_num(c, w, "realtimeRuntime", "cpu-rt-runtime", f->cpu_rt_runtime,
                                 false)) < 0)
                        goto fail;
                if (f->cpuset_cpus)
                        json_kv_str(w, "cpus", f->cpuset_cpus);
                if (f->cpuset_mems)
                        json_kv_str(w, "mems", f->cpuset_mems);
                json_obj_end(w);
        }
        if (f->pids_limit) {
                json_key(w, "pids");
                json_obj_begin(w);
                if ((r = add_num(c, w, "limit", "pids-limit", f->pids_limit, false)) < 0)
                        goto fail;
                json_obj_end(w);
        }
        if (f->blkio_weight) {
                json_key(w, "blockIO");
                json_obj_begin(w);
                if ((r = add_num(c, w, "weight", "blkio-weight", f->blkio_weight, false)) < 0)
                        goto fail;
                json_obj_end(w);
        }
        json_obj_end(w);
        return json_writer_finish(w);
fail:
        json_writer_free(w);
        return NULL;
}

int cmd_update(cli_ctx *c, int argc, char **argv)
{
        const char *resources = NULL;
        update_flags f = { 0 };
        const cli_opt opts[] = {
                { "resources", 'r', OPT_STRING, &resources,
                  "OCI LinuxResources JSON from FILE, or - for standard input" },
                { "memory", 0, OPT_STRING, &f.memory, "memory limit in bytes (suffixes k, m, g)" },
                { "memory-swap", 0, OPT_STRING, &f.memory_swap,
                  "memory plus swap limit (-1: unlimited)" },
                { "memory-reservation", 0, OPT_STRING, &f.memory_reservation,
                  "memory soft limit" },
                { "kernel-memory", 0, OPT_STRING, &f.kernel_memory, "kernel memory limit (v1)" },
                { "cpu-share", 0, OPT_STRING, &f.cpu_shares, "relative CPU weight (cpu.shares)" },
                { "cpu-shares", 0, OPT_STRING, &f.cpu_shares, "the same as --cpu-share" },
                { "cpu-quota", 0, OPT_STRING, &f.cpu_quota, "CFS quota in microseconds" },
                { "cpu-period", 0, OPT_STRING, &f.cpu_period, "CFS period in microseconds" },
                { "cpu-rt-period", 0, OPT_STRING, &f.cpu_rt_period, "realtime period (us)" },
                { "cpu-rt-runtime", 0, OPT_STRING, &f.cpu_rt_runtime, "realtime runtime (us)" },
                { "cpuset-cpus", 0, OPT_STRING, &f.cpuset_cpus, "CPUs allowed, e.g. 0-1" },
                { "cpuset-mems", 0, OPT_STRING, &f.cpuset_mems, "memory nodes allowed" },
                { "pids-limit", 0, OPT_STRING, &f.pids_limit, "maximum number of processes" },
                { "blkio-weight", 0, OPT_STRING, &f.blkio_weight, "block IO weight (10-1000)" },
                { 0 },
        };
        char *id = NULL;
        int r = one_id(c, argc, argv, opts, &id);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        /* runc reads only the document when both are given: do the same, and say so. */
        if (resources && any_flag(&f))
                cli_warn(c, "update: --resources is given: the resource flags are ignored");
        if (!resources && !any_flag(&f))
                return cli_fail(c, "update: nothing to change: give --resources FILE|- or flags "
                                   "such as --memory, --cpu-share, --pids-limit");
        if (resources) {
                bool in = strcmp(resources, "-") == 0;
                r = read_file_at(AT_FDCWD, in ? "/dev/stdin" : resources, RESOURCES_MAX, &json,
                                 &len);
                if (r < 0)
                        return cli_fail(c, "update: read %s: %s", in ? "standard input" : resources,
                                        strerror(-r));
        } else {
                json = flags_to_json(c, &f);
                if (!json)
                        return 1;
                len = strlen(json);
        }
        husk_error_t err = { 0 };
        if (husk_update(&c->g, id, json, len, &err) < 0)
                return cli_fail_err(c, &err);
        return 0;
}

/* ps(1)'s output is read whole: bounded, named in the error. */
#define PS_OUTPUT_MAX (16 * 1024 * 1024)

/* Run ps(1) with args (argv[0] = "ps"), stdout and stderr together (runc: CombinedOutput). */
static int run_ps(cli_ctx *c, char **args, char **ret_out)
{
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -cli_fail(c, "ps: pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(fds[0]);
                close(fds[1]);
                return -cli_fail(c, "ps: fork: %s", strerror(e));
        }
        if (pid == 0) {
                if (dup2(fds[1], STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0)
                        _exit(127);
                execvp("ps", args);
                fprintf(stderr, "exec ps: %s\n", strerror(errno));
                _exit(127);
        }
        close(fds[1]);
        size_t len = 0, cap = 65536;
        char *out = xmalloc(cap + 1);
        bool too_big = false;
        for (;;) {
                if (len == cap) {
                        if (cap >= PS_OUTPUT_MAX) {
                                too_big = true;
                                break;
                        }
                        cap *= 2;
                        out = xrealloc(out, cap + 1);
                }
                ssize_t k = read(fds[0], out + len, cap - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        out[len] = '\0';
        close(fds[0]);
        if (too_big)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (too_big) {
                free(out);
                return -cli_fail(c, "ps: the output of ps exceeds %d MiB", PS_OUTPUT_MAX >> 20);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                int rc = cli_fail(c, "ps: ps %s: %s", WIFEXITED(status) ? "failed" : "was killed",
                                  out);
                free(out);
                return -rc;
        }
        *ret_out = out;
        return 0;
}

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* runc's table: ps(1) with the given options (default -ef), its header, then the rows whose PID
 * column is one of the container's processes. */
static int print_ps_table(cli_ctx *c, const pid_t *pids, size_t n, char **ps_args, int n_args)
{
        _cleanup_free_ char **args = xcalloc((size_t)n_args + 3, sizeof(char *));
        args[0] = (char *)"ps";
        if (n_args == 0)
                args[1] = (char *)"-ef";
        for (int i = 0; i < n_args; i++)
                args[1 + i] = ps_args[i];
        _cleanup_free_ char *out = NULL;
        if (run_ps(c, args, &out) < 0)
                return 1;
        char *save = NULL, *line = strtok_r(out, "\n", &save);
        if (!line)
                return cli_fail(c, "ps: ps printed nothing");
        /* The PID column of the header (whitespace-separated, as runc counts). */
        _cleanup_free_ char *head = xstrdup(line);
        int col = -1, k = 0;
        char *hsave = NULL;
        for (char *f = strtok_r(head, " \t", &hsave); f; f = strtok_r(NULL, " \t", &hsave), k++)
                if (strcmp(f, "PID") == 0) {
                        col = k;
                        break;
                }
        if (col < 0)
                return cli_fail(c, "ps: couldn't find PID field in ps output");
        puts(line);
        while ((line = strtok_r(NULL, "\n", &save))) {
                _cleanup_free_ char *copy = xstrdup(line);
                char *fsave = NULL, *f = strtok_r(copy, " \t", &fsave);
                for (int i = 0; f && i < col; i++)
                        f = strtok_r(NULL, " \t", &fsave);
                if (!f)
                        continue; /* a short row (no PID column) */
                int64_t pid;
                if (parse_int64(f, &pid) < 0)
                        return cli_fail(c, "ps: unable to parse pid \"%s\"", f);
                if (has_pid(pids, n, (long)pid))
                        puts(line);
        }
        return 0;
}

int cmd_ps(cli_ctx *c, int argc, char **argv)
{
        const char *format = "table";
        const cli_opt opts[] = {
                { "format", 'f', OPT_STRING, &format, "table (default) or json (an array of pids)" },
                { 0 },
        };
        /* As runc: options before the id are husk's; everything after it goes to ps(1) (`husk ps
         * ID -o pid,comm`), and `-ef` when nothing does. */
        _cleanup_free_ char **front = xcalloc((size_t)argc + 1, sizeof(char *));
        int nfront = 0, i = 1;
        front[nfront++] = argv[0];
        for (; i < argc; i++) {
                char *a = argv[i];
                if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                }
                if (a[0] != '-' || a[1] == '\0')
                        break;
                front[nfront++] = a;
                bool fmt = strcmp(a, "--format") == 0 || strcmp(a, "-format") == 0 ||
                           strcmp(a, "-f") == 0;
                if (fmt && i + 1 < argc)
                        front[nfront++] = argv[++i];
        }
        if (i < argc)
                front[nfront++] = argv[i++]; /* the id */
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, cli_find_command(c->command), opts, nfront, front, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
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
        if (!json)
                return print_ps_table(c, pids, n, argv + i, argc - i);
        /* containerd parses stdout+stderr together as []int: print only the array. */
        /* runc prints null (a nil slice) when no process is left. */
        if (n == 0) {
                puts("null");
                return 0;
        }
        putchar('[');
        for (size_t k = 0; k < n; k++)
                printf(k ? ",%d" : "%d", (int)pids[k]);
        puts("]");
        return 0;
}
