/* SPDX-License-Identifier: Apache-2.0 */
/* Drives the cgroup module directly (without the CLI) for tests/integration/cgroup.sh:
 *   cgroup_helper create ID [OPTS]      create; prints the serialized handle
 *   cgroup_helper update STATE [OPTS]   cgroup_apply
 *   cgroup_helper exec STATE CMD...     join the cgroup (cgroup_enter on itself), exec CMD
 *   cgroup_helper freeze|thaw|frozen|pids|destroy STATE
 *   cgroup_helper kill STATE SIGNO
 *   cgroup_helper husk-update ROOT ID JSON | husk-pause ROOT ID | husk-resume ROOT ID
 *                                       the public husk_update / husk_pause / husk_resume
 * OPTS: --path P --memory N --swap N --reservation N --no-oom-kill --pids N --shares N
 *       --quota N --period N --cpus S --mems S --blkio-weight N --hugetlb SIZE:N
 *       --unified KEY=VAL --rule allow|deny:TYPE:MAJ:MIN:ACCESS --device TYPE:MAJ:MIN
 * Exit: 0 ok, 1 library error (message on stderr), 2 usage. */
#include "cgroup/cgroup.h"
#include "util/util.h"

#include <inttypes.h>
#include <signal.h>
#include <string.h>

static void die_usage(const char *what)
{
        fprintf(stderr, "cgroup_helper: %s\n", what);
        exit(2);
}

static int64_t num(const char *s)
{
        int64_t v;
        if (parse_int64(s, &v) < 0)
                die_usage("bad number");
        return v;
}

static int64_t devnum(const char *s)
{
        return strcmp(s, "*") == 0 ? -1 : num(s);
}

#define GROW(arr, n) ((arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr))), &(arr)[(n)++])

/* Parse OPTS into cfg (cgroupsPath, devices) and res; returns the index of the first non-option. */
static int parse_opts(int argc, char **argv, int i, husk_config *cfg, config_resources *res)
{
        for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
                const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(o, "--no-oom-kill") == 0) {
                        res->has_memory = res->memory.has_disable_oom_killer = true;
                        res->memory.disable_oom_killer = true;
                        continue;
                }
                if (!v)
                        die_usage("missing option value");
                i++;
                if (strcmp(o, "--path") == 0) {
                        cfg->linux_.cgroups_path = xstrdup(v);
                } else if (strcmp(o, "--memory") == 0) {
                        res->has_memory = res->memory.has_limit = true;
                        res->memory.limit = num(v);
                } else if (strcmp(o, "--swap") == 0) {
                        res->has_memory = res->memory.has_swap = true;
                        res->memory.swap = num(v);
                } else if (strcmp(o, "--reservation") == 0) {
                        res->has_memory = res->memory.has_reservation = true;
                        res->memory.reservation = num(v);
                } else if (strcmp(o, "--pids") == 0) {
                        res->has_pids = true;
                        res->pids_limit = num(v);
                } else if (strcmp(o, "--shares") == 0) {
                        res->has_cpu = res->cpu.has_shares = true;
                        res->cpu.shares = (uint64_t)num(v);
                } else if (strcmp(o, "--quota") == 0) {
                        res->has_cpu = res->cpu.has_quota = true;
                        res->cpu.quota = num(v);
                } else if (strcmp(o, "--period") == 0) {
                        res->has_cpu = res->cpu.has_period = true;
                        res->cpu.period = (uint64_t)num(v);
                } else if (strcmp(o, "--cpus") == 0) {
                        res->has_cpu = true;
                        res->cpu.cpus = xstrdup(v);
                } else if (strcmp(o, "--mems") == 0) {
                        res->has_cpu = true;
                        res->cpu.mems = xstrdup(v);
                } else if (strcmp(o, "--blkio-weight") == 0) {
                        res->has_blkio = res->blkio.has_weight = true;
                        res->blkio.weight = (uint16_t)num(v);
                } else if (strcmp(o, "--hugetlb") == 0) {
                        const char *c = strchr(v, ':');
                        if (!c)
                                die_usage("--hugetlb SIZE:LIMIT");
                        config_hugepage_limit *l = GROW(res->hugepage_limits, res->n_hugepage_limits);
                        l->page_size = xstrndup(v, (size_t)(c - v));
                        l->limit = (uint64_t)num(c + 1);
                } else if (strcmp(o, "--unified") == 0) {
                        const char *e = strchr(v, '=');
                        if (!e)
                                die_usage("--unified KEY=VALUE");
                        config_kv *kv = GROW(res->unified, res->n_unified);
                        kv->key = xstrndup(v, (size_t)(e - v));
                        kv->value = xstrdup(e + 1);
                } else if (strcmp(o, "--rule") == 0) {
                        /* allow:c:1:3:rwm */
                        _cleanup_free_ char *s = xstrdup(v);
                        char *save = NULL, *f[5];
                        for (int k = 0; k < 5; k++)
                                if (!(f[k] = strtok_r(k ? NULL : s, ":", &save)))
                                        die_usage("--rule allow|deny:TYPE:MAJ:MIN:ACCESS");
                        config_device_rule *d = GROW(res->devices, res->n_devices);
                        d->allow = strcmp(f[0], "allow") == 0;
                        d->type = f[1][0];
                        d->major = devnum(f[2]);
                        d->minor = devnum(f[3]);
                        snprintf(d->access, sizeof(d->access), "%s", f[4]);
                } else if (strcmp(o, "--device") == 0) {
                        _cleanup_free_ char *s = xstrdup(v);
                        char *save = NULL, *t = strtok_r(s, ":", &save);
                        char *ma = strtok_r(NULL, ":", &save), *mi = strtok_r(NULL, ":", &save);
                        if (!t || !ma || !mi)
                                die_usage("--device TYPE:MAJ:MIN");
                        config_device *d = GROW(cfg->linux_.devices, cfg->linux_.n_devices);
                        memset(d, 0, sizeof(*d));
                        d->type = t[0];
                        d->major = num(ma);
                        d->minor = num(mi);
                } else {
                        die_usage("unknown option");
                }
        }
        return i;
}

static int fail(husk_error_t *err)
{
        fprintf(stderr, "cgroup_helper: %s\n", err->msg);
        return 1;
}

int main(int argc, char **argv)
{
        husk_error_t err = { 0 };
        husk_config cfg = { 0 };
        config_resources res = { 0 };
        cgroup_handle *h = NULL;
        if (argc < 3)
                die_usage("usage: cgroup_helper CMD ID|STATE [ARGS]");
        const char *cmd = argv[1];
        if (strncmp(cmd, "husk-", 5) == 0) {
                if (argc < 4)
                        die_usage("husk-CMD ROOT ID [JSON]");
                husk_global_t g = { .root = argv[2] };
                int r;
                if (strcmp(cmd, "husk-update") == 0 && argc == 5)
                        r = husk_update(&g, argv[3], argv[4], strlen(argv[4]), &err);
                else if (strcmp(cmd, "husk-pause") == 0)
                        r = husk_pause(&g, argv[3], &err);
                else if (strcmp(cmd, "husk-resume") == 0)
                        r = husk_resume(&g, argv[3], &err);
                else
                        die_usage("unknown husk- command");
                return r < 0 ? fail(&err) : 0;
        }
        if (strcmp(cmd, "create") == 0) {
                int i = parse_opts(argc, argv, 3, &cfg, &res);
                if (i != argc)
                        die_usage("extra arguments");
                cfg.linux_.resources = &res;
                if (cgroup_create(argv[2], &cfg, &h, &err) < 0)
                        return fail(&err);
                char *s = cgroup_serialize(h);
                puts(s);
                free(s);
                cgroup_handle_free(h);
                return 0;
        }
        if (cgroup_deserialize(argv[2], &h, &err) < 0)
                return fail(&err);
        int r = 0;
        if (strcmp(cmd, "update") == 0) {
                if (parse_opts(argc, argv, 3, &cfg, &res) != argc)
                        die_usage("extra arguments");
                r = cgroup_apply(h, &res, &err);
        } else if (strcmp(cmd, "exec") == 0) {
                if (argc < 4)
                        die_usage("exec STATE CMD...");
                if (cgroup_enter(h, getpid(), &err) < 0)
                        return fail(&err);
                execvp(argv[3], argv + 3);
                perror("cgroup_helper: exec");
                return 127;
        } else if (strcmp(cmd, "freeze") == 0 || strcmp(cmd, "thaw") == 0) {
                r = cgroup_freeze(h, cmd[0] == 'f', &err);
        } else if (strcmp(cmd, "frozen") == 0) {
                bool f = false;
                r = cgroup_is_frozen(h, &f, &err);
                if (r >= 0)
                        puts(f ? "frozen" : "thawed");
        } else if (strcmp(cmd, "pids") == 0) {
                pid_t *p = NULL;
                size_t n = 0;
                r = cgroup_pids(h, &p, &n, &err);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        printf("%d\n", (int)p[i]);
                free(p);
        } else if (strcmp(cmd, "kill") == 0) {
                if (argc < 4)
                        die_usage("kill STATE SIGNO");
                r = cgroup_kill_all(h, (int)num(argv[3]), &err);
        } else if (strcmp(cmd, "destroy") == 0) {
                r = cgroup_destroy(h, &err);
        } else {
                die_usage("unknown command");
        }
        cgroup_handle_free(h);
        return r < 0 ? fail(&err) : 0;
}
