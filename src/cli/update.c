/* SPDX-License-Identifier: Apache-2.0 */
/* pause, resume, update, ps: the cgroup-facing commands. */
#include "cli.h"
#include "util/json.h"
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
                { "cpu-shares", 0, OPT_STRING, &f.cpu_shares, "relative CPU weight" },
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
        if (resources && any_flag(&f))
                return cli_fail(c, "update: use either --resources or the resource flags");
        if (!resources && !any_flag(&f))
                return cli_fail(c, "update: nothing to change: give --resources FILE|- or flags "
                                   "such as --memory, --cpu-shares, --pids-limit");
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
        /* runc prints null (a nil slice) when no process is left. */
        if (n == 0) {
                puts("null");
                return 0;
        }
        putchar('[');
        for (size_t i = 0; i < n; i++)
                printf(i ? ",%d" : "%d", (int)pids[i]);
        puts("]");
        return 0;
}
