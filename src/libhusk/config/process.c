/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI "process" object: in config.json (.process) and alone (exec --process FILE). */
#include "config/internal.h"

#include <inttypes.h>
#include <string.h>

void config_process_free(config_process *p)
{
        if (!p)
                return;
        free(p->user.additional_gids);
        strv_free(p->args);
        free(p->command_line);
        strv_free(p->env);
        free(p->cwd);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->cpu_affinity_initial);
        free(p->cpu_affinity_final);
        strv_free(p->warnings);
        free(p);
}

static void process_freep(config_process **p)
{
        config_process_free(*p);
}

static int parse_user(jctx *c, yajl_val proc, const char *parent, config_user *u)
{
        char path[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, proc, parent, "user", &v, path);
        if (r < 0 || !v)
                return r;
        if ((r = jget_uint32(c, v, path, "uid", false, NULL, &u->uid)) < 0 ||
            (r = jget_uint32(c, v, path, "gid", false, NULL, &u->gid)) < 0)
                return r;
        uint64_t umask = 0;
        if ((r = jget_uint64(c, v, path, "umask", false, 0777, &u->has_umask, &umask)) < 0)
                return r;
        u->umask = (uint32_t)umask;
        yajl_val gids = NULL;
        if ((r = jget_array(c, v, path, "additionalGids", &gids)) < 0)
                return r;
        if (gids) {
                char gp[JPATH_MAX], ep[JPATH_MAX];
                jpath_key(gp, path, "additionalGids");
                size_t n = gids->u.array.len;
                u->additional_gids = xcalloc(n ? n : 1, sizeof(uint32_t));
                u->n_additional_gids = n;
                for (size_t i = 0; i < n; i++) {
                        uint64_t g = 0;
                        jpath_idx(ep, gp, i);
                        if ((r = jval_uint64(c, gids->u.array.values[i], ep, UINT32_MAX, &g)) < 0)
                                return r;
                        u->additional_gids[i] = (uint32_t)g;
                }
        }
        /* user.username is Windows only: ignored. */
        return 0;
}

static int parse_cap_set(jctx *c, yajl_val caps, const char *parent, const char *key, bool *has,
                         uint64_t *mask)
{
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;
        int r = jget_strv(c, caps, parent, key, &names, &n);
        if (r < 0 || !names)
                return r;
        char path[JPATH_MAX], ep[JPATH_MAX];
        jpath_key(path, parent, key);
        for (size_t i = 0; i < n; i++) {
                int cap = config_cap_from_name(names[i]);
                if (cap < 0) {
                        /* runc and crun run such a config (runc: "ignoring unknown or unavailable
                         * capabilities"); skipping a capability only grants less. */
                        jpath_idx(ep, path, i);
                        jwarn(c, ep, "unknown capability \"%s\" ignored", names[i]);
                        continue;
                }
                *mask |= UINT64_C(1) << cap;
        }
        *has = true;
        return 0;
}

static int parse_caps(jctx *c, yajl_val proc, const char *parent, config_process *p)
{
        char path[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, proc, parent, "capabilities", &v, path);
        if (r < 0 || !v)
                return r;
        config_caps *k = &p->capabilities;
        if ((r = parse_cap_set(c, v, path, "bounding", &k->has_bounding, &k->bounding)) < 0 ||
            (r = parse_cap_set(c, v, path, "effective", &k->has_effective, &k->effective)) < 0 ||
            (r = parse_cap_set(c, v, path, "inheritable", &k->has_inheritable, &k->inheritable)) <
                    0 ||
            (r = parse_cap_set(c, v, path, "permitted", &k->has_permitted, &k->permitted)) < 0 ||
            (r = parse_cap_set(c, v, path, "ambient", &k->has_ambient, &k->ambient)) < 0)
                return r;
        p->has_capabilities = true;
        return 0;
}

static int parse_rlimit(jctx *c, yajl_val v, const char *path, void *elem, void *data)
{
        config_process *p = data;
        config_rlimit *rl = elem;
        size_t idx = (size_t)(rl - p->rlimits);
        _cleanup_free_ char *type = NULL;
        char tp[JPATH_MAX];
        jpath_key(tp, path, "type");
        int r = jget_string(c, v, path, "type", true, &type);
        if (r < 0)
                return r;
        int res = config_rlimit_from_name(type);
        if (res < 0)
                return jerr(c, tp, "unknown rlimit \"%s\"", type);
        for (size_t i = 0; i < idx; i++)
                if (p->rlimits[i].resource == res)
                        return jerr(c, tp, "duplicate rlimit \"%s\"", type);
        rl->resource = res;
        if ((r = jget_uint64(c, v, path, "soft", true, UINT64_MAX, NULL, &rl->soft)) < 0 ||
            (r = jget_uint64(c, v, path, "hard", true, UINT64_MAX, NULL, &rl->hard)) < 0)
                return r;
        if (rl->soft > rl->hard)
                return jerr(c, path, "soft limit %" PRIu64 " exceeds hard limit %" PRIu64, rl->soft,
                            rl->hard);
        return 0;
}

static int parse_rlimits(jctx *c, yajl_val proc, const char *parent, config_process *p)
{
        /* Each element is checked to be an object when its turn comes: an earlier element's
         * error is the one reported. */
        return jparse_array(c, proc, parent, "rlimits", false, sizeof(*p->rlimits), parse_rlimit,
                            p, &p->rlimits, &p->n_rlimits);
}

/* A field husk recognises but cannot apply: refuse it rather than run the container without it. */
static int reject_string(jctx *c, const char *parent, const char *key, const char *value,
                         const char *why)
{
        if (!value || !value[0])
                return 0;
        char path[JPATH_MAX];
        jpath_key(path, parent, key);
        return jerr(c, path, "not supported by husk (%s)", why);
}

static int parse_sched_policy(jctx *c, const char *path, const char *s, uint32_t *ret)
{
        static const char *const names[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",
                                             "SCHED_BATCH", "SCHED_ISO",  "SCHED_IDLE",
                                             "SCHED_DEADLINE" };
        int i = config_name_index(names, ARRAY_SIZE(names), s);
        if (i < 0)
                return jerr(c, path, "unknown scheduling policy \"%s\"", s);
        *ret = (uint32_t)i; /* the kernel's numbers are the table's order */
        return 0;
}

static int parse_sched_flags(jctx *c, yajl_val v, const char *path, uint64_t *ret)
{
        static const char *const names[] = { "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
                                             "SCHED_FLAG_DL_OVERRUN",    "SCHED_FLAG_KEEP_POLICY",
                                             "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN",
                                             "SCHED_FLAG_UTIL_CLAMP_MAX" };
        _cleanup_strv_ char **flags = NULL;
        size_t n = 0;
        int r = jget_strv(c, v, path, "flags", &flags, &n);
        if (r < 0)
                return r;
        char fp[JPATH_MAX], ep[JPATH_MAX];
        jpath_key(fp, path, "flags");
        for (size_t i = 0; i < n; i++) {
                int k = config_name_index(names, ARRAY_SIZE(names), flags[i]);
                if (k < 0) {
                        jpath_idx(ep, fp, i);
                        return jerr(c, ep, "unknown scheduler flag \"%s\"", flags[i]);
                }
                *ret |= UINT64_C(1) << k; /* bit k is the kernel's SCHED_FLAG_* value */
        }
        return 0;
}

/* process.scheduler: applied with sched_setattr on the container side. */
static int parse_scheduler(jctx *c, yajl_val proc, const char *parent, config_process *p)
{
        char path[JPATH_MAX], pp[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, proc, parent, "scheduler", &v, path);
        if (r < 0 || jobject_empty(v))
                return r;
        jpath_key(pp, path, "policy");
        config_scheduler *s = &p->scheduler;
        _cleanup_free_ char *policy = NULL;
        int64_t nice = 0;
        if ((r = jget_string(c, v, path, "policy", true, &policy)) < 0 ||
            (r = parse_sched_policy(c, pp, policy, &s->policy)) < 0 ||
            (r = jget_int64(c, v, path, "nice", false, -20, 19, NULL, &nice)) < 0 ||
            (r = jget_uint32(c, v, path, "priority", false, NULL, &s->priority)) < 0 ||
            (r = parse_sched_flags(c, v, path, &s->flags)) < 0 ||
            (r = jget_uint64(c, v, path, "runtime", false, UINT64_MAX, NULL, &s->runtime)) < 0 ||
            (r = jget_uint64(c, v, path, "deadline", false, UINT64_MAX, NULL, &s->deadline)) < 0 ||
            (r = jget_uint64(c, v, path, "period", false, UINT64_MAX, NULL, &s->period)) < 0)
                return r;
        s->nice = (int32_t)nice;
        p->has_scheduler = true;
        return 0;
}

/* process.ioPriority: applied with ioprio_set on the container side. */
static int parse_io_priority(jctx *c, yajl_val proc, const char *parent, config_process *p)
{
        static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                               "IOPRIO_CLASS_IDLE" };
        char path[JPATH_MAX], cp[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, proc, parent, "ioPriority", &v, path);
        if (r < 0 || jobject_empty(v))
                return r;
        jpath_key(cp, path, "class");
        _cleanup_free_ char *klass = NULL;
        int64_t prio = 0;
        if ((r = jget_string(c, v, path, "class", true, &klass)) < 0 ||
            (r = jget_int64(c, v, path, "priority", false, 0, 7, NULL, &prio)) < 0)
                return r;
        int k = config_name_index(classes, ARRAY_SIZE(classes), klass);
        if (k < 0)
                return jerr(c, cp, "unknown I/O priority class \"%s\" (expected IOPRIO_CLASS_RT, "
                                   "IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)",
                            klass);
        p->io_priority.klass = k + 1; /* IOPRIO_CLASS_RT is 1 */
        p->io_priority.priority = (int)prio;
        p->has_io_priority = true;
        return 0;
}

int config_parse_cpu_list(const char *s, uint64_t set[CONFIG_CPUS_MAX / 64])
{
        memset(set, 0, CONFIG_CPUS_MAX / 8);
        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p;) {
                char *end;
                errno = 0;
                unsigned long a = strtoul(p, &end, 10), b;
                if (end == p || errno || a >= CONFIG_CPUS_MAX)
                        return -EINVAL;
                b = a;
                if (*end == '-') {
                        p = end + 1;
                        b = strtoul(p, &end, 10);
                        if (end == p || errno || b >= CONFIG_CPUS_MAX || b < a)
                                return -EINVAL;
                }
                for (unsigned long i = a; i <= b; i++)
                        set[i / 64] |= UINT64_C(1) << (i % 64);
                if (*end == ',')
                        end++;
                else if (*end)
                        return -EINVAL;
                p = end;
        }
        return 0;
}

/* process.execCPUAffinity: CPU lists, applied by exec (not to the init process: runtime-spec). */
static int parse_cpu_affinity(jctx *c, yajl_val proc, const char *parent, config_process *p)
{
        char path[JPATH_MAX], kp[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, proc, parent, "execCPUAffinity", &v, path);
        if (r < 0 || jobject_empty(v))
                return r;
        if ((r = jget_string(c, v, path, "initial", false, &p->cpu_affinity_initial)) < 0 ||
            (r = jget_string(c, v, path, "final", false, &p->cpu_affinity_final)) < 0)
                return r;
        jdrop_empty(&p->cpu_affinity_initial);
        jdrop_empty(&p->cpu_affinity_final);
        uint64_t set[CONFIG_CPUS_MAX / 64];
        char *const lists[] = { p->cpu_affinity_initial, p->cpu_affinity_final };
        const char *const keys[] = { "initial", "final" };
        for (size_t i = 0; i < 2; i++) {
                if (!lists[i])
                        continue;
                if (config_parse_cpu_list(lists[i], set) < 0) {
                        jpath_key(kp, path, keys[i]);
                        return jerr(c, kp, "invalid CPU list \"%s\" (expected e.g. \"0-3,7\")",
                                    lists[i]);
                }
        }
        p->has_exec_cpu_affinity = p->cpu_affinity_initial || p->cpu_affinity_final;
        return 0;
}

static int check_env(jctx *c, const char *parent, config_process *p)
{
        char path[JPATH_MAX], ep[JPATH_MAX];
        jpath_key(path, parent, "env");
        for (size_t i = 0; i < p->n_env; i++) {
                const char *eq = strchr(p->env[i], '=');
                if (!eq || eq == p->env[i]) {
                        jpath_idx(ep, path, i);
                        return jerr(c, ep, "expected \"NAME=value\", got \"%s\"", p->env[i]);
                }
        }
        return 0;
}

static int parse_console_size(jctx *c, yajl_val proc, const char *parent, config_process *p)
{
        char path[JPATH_MAX];
        yajl_val v = NULL;
        int r = jget_section(c, proc, parent, "consoleSize", &v, path);
        if (r < 0 || !v)
                return r;
        if ((r = jget_uint32(c, v, path, "height", true, NULL, &p->console_height)) < 0 ||
            (r = jget_uint32(c, v, path, "width", true, NULL, &p->console_width)) < 0)
                return r;
        p->has_console_size = true;
        return 0;
}

static int parse_args_cwd(jctx *c, yajl_val v, const char *path, config_process *p)
{
        char ap[JPATH_MAX];
        int r = jget_strv(c, v, path, "args", &p->args, &p->n_args);
        if (r < 0)
                return r;
        jpath_key(ap, path, "args");
        if (p->n_args == 0)
                return jerr(c, ap, "must contain at least one element (the program to run)");
        if (p->args[0][0] == '\0')
                return jerr(c, ap, "the program to run (args[0]) is an empty string");
        if ((r = jget_string(c, v, path, "cwd", true, &p->cwd)) < 0)
                return r;
        jpath_key(ap, path, "cwd");
        if (p->cwd[0] != '/')
                return jerr(c, ap, "expected an absolute path, got \"%s\"", p->cwd);
        return 0;
}

int config_parse_process_obj(jctx *c, yajl_val v, const char *path, config_process **ret)
{
        if (!YAJL_IS_OBJECT(v))
                return jerr(c, path, "expected an object, got %s", jtype(v));
        _cleanup_(process_freep) config_process *p = xcalloc(1, sizeof(*p));
        int64_t oom = 0;
        int r;
        if ((r = jget_bool(c, v, path, "terminal", NULL, &p->terminal)) < 0 ||
            (r = parse_console_size(c, v, path, p)) < 0 ||
            (r = parse_user(c, v, path, &p->user)) < 0 || (r = parse_args_cwd(c, v, path, p)) < 0 ||
            (r = jget_string(c, v, path, "commandLine", false, &p->command_line)) < 0 ||
            (r = jget_strv(c, v, path, "env", &p->env, &p->n_env)) < 0 ||
            (r = check_env(c, path, p)) < 0 || (r = parse_caps(c, v, path, p)) < 0 ||
            (r = parse_rlimits(c, v, path, p)) < 0 ||
            (r = jget_bool(c, v, path, "noNewPrivileges", NULL, &p->no_new_privileges)) < 0 ||
            (r = jget_string(c, v, path, "apparmorProfile", false, &p->apparmor_profile)) < 0 ||
            (r = jget_int64(c, v, path, "oomScoreAdj", false, -1000, 1000, &p->has_oom_score_adj,
                            &oom)) < 0 ||
            (r = jget_string(c, v, path, "selinuxLabel", false, &p->selinux_label)) < 0 ||
            (r = parse_scheduler(c, v, path, p)) < 0 || (r = parse_io_priority(c, v, path, p)) < 0)
                return r;
        p->oom_score_adj = (int)oom;
        if (!p->env) {
                p->env = xcalloc(1, sizeof(char *));
                p->n_env = 0;
        }
        /* Refused: a profile or label that is not applied leaves the process less confined than
         * asked (runc and crun refuse them too on a host without AppArmor / SELinux). */
        if ((r = reject_string(c, path, "apparmorProfile", p->apparmor_profile,
                               "no AppArmor support")) < 0 ||
            (r = reject_string(c, path, "selinuxLabel", p->selinux_label, "no SELinux support")) <
                    0)
                return r;
        /* Skipped with a warning: neither grants the process anything (runc and crun run both). */
        char wp[JPATH_MAX];
        if (p->command_line && p->command_line[0]) {
                jpath_key(wp, path, "commandLine");
                jwarn(c, wp, "ignored (Windows only)");
        }
        if ((r = parse_cpu_affinity(c, v, path, p)) < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static int process_doc(jctx *c, yajl_val tree, const char *path, void *elem, void *data)
{
        return config_parse_process_obj(c, tree, path, elem);
}

int config_parse_process(const char *json, size_t len, const char *fname, config_process **ret,
                         husk_error_t *err)
{
        char **warnings = NULL;
        int r = jparse_doc(json, len, fname, err, process_doc, ret, &warnings);
        if (r == 0)
                (*ret)->warnings = warnings;
        return r;
}
