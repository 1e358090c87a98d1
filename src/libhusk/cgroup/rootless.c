/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroups for a rootless husk (see cgroup.h): a delegated cgroup v2 subtree when there is one,
 * else none. Host side only. */
#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

const char *cgroup_limit_asked(const config_resources *r)
{
        if (!r)
                return NULL;
        const config_memory *m = &r->memory;
        if (r->has_memory && (m->has_limit || m->has_reservation || m->has_swap || m->has_kernel ||
                              m->has_kernel_tcp || m->has_swappiness ||
                              (m->has_disable_oom_killer && m->disable_oom_killer)))
                return ".linux.resources.memory";
        const config_cpu *c = &r->cpu;
        if (r->has_cpu && (c->has_shares || c->has_quota || c->has_burst || c->has_period ||
                           c->has_realtime_runtime || c->has_realtime_period || c->has_idle ||
                           (c->cpus && c->cpus[0]) || (c->mems && c->mems[0])))
                return ".linux.resources.cpu";
        if (r->has_pids && r->pids_limit > 0)
                return ".linux.resources.pids.limit";
        const config_blkio *b = &r->blkio;
        if (r->has_blkio && (b->has_weight || b->has_leaf_weight || b->n_weight_device ||
                             b->n_throttle_read_bps || b->n_throttle_write_bps ||
                             b->n_throttle_read_iops || b->n_throttle_write_iops))
                return ".linux.resources.blockIO";
        if (r->n_hugepage_limits)
                return ".linux.resources.hugepageLimits";
        if (r->n_unified)
                return ".linux.resources.unified";
        /* devices: a user cannot make device nodes, and the ones bound in keep their host
         * permissions; runc ignores the device cgroup in rootless mode too. */
        return NULL;
}

/* The cgroup v2 path ("/a/b") of the calling process, from /proc/self/cgroup's "0::" line. */
static char *own_v2_path(void)
{
        _cleanup_free_ char *text = NULL;
        if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, NULL) < 0)
                return NULL;
        for (char *l = text; l && *l;) {
                char *e = strchrnul(l, '\n');
                char saved = *e;
                *e = '\0';
                if (strncmp(l, "0::/", 4) == 0)
                        return xstrdup(l + 3);
                l = saved ? e + 1 : e;
        }
        return NULL;
}

static bool owned_dir(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
               access(path, W_OK) == 0;
}

char *cgroup_v2_delegated_root(char **ret_own)
{
        struct statfs sfs;
        _cleanup_free_ char *own = NULL;
        if (statfs(CGROUP_ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC ||
            !(own = own_v2_path()))
                return NULL;
        /* Walk up from our own cgroup while the parent is ours: the top is the delegation (the
         * cgroup systemd made for user@UID.service, or one an administrator chowned). Our own
         * cgroup holds processes, so containers go next to it, under the delegation root. */
        _cleanup_free_ char *top = NULL;
        _cleanup_free_ char *cur = xstrdup(own);
        while (strcmp(cur, "/") != 0) {
                _cleanup_free_ char *full = xasprintf("%s%s", CGROUP_ROOT, cur);
                if (!owned_dir(full))
                        break;
                free(top);
                top = xstrdup(cur);
                char *slash = strrchr(cur, '/');
                if (slash == cur)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
        if (ret_own)
                *ret_own = TAKE_PTR(own);
        return TAKE_PTR(top);
}

int cgroup_plan_rootless(const char *id, const husk_config *cfg, cgroup_handle **ret,
                         char **ret_why, husk_error_t *err)
{
        *ret = NULL;
        *ret_why = NULL;
        struct statfs sfs;
        if (statfs(CGROUP_ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                *ret_why = xstrdup("this host has cgroup v1, where only root can create cgroups");
                return 0;
        }
        const char *want = cfg->linux_.cgroups_path;
        _cleanup_free_ char *own = NULL;
        _cleanup_free_ char *top = cgroup_v2_delegated_root(&own);
        _cleanup_free_ char *path = NULL;
        int r;
        if (want && want[0] == '/') {
                r = cgroup_path_resolve(want, id, &path, err);
                if (r < 0)
                        return r;
        } else if (top) {
                _cleanup_free_ char *rel = NULL;
                /* "husk/ID" or the relative linux.cgroupsPath, under the delegation root */
                r = cgroup_path_resolve(want, id, &rel, err);
                if (r < 0)
                        return r;
                path = xasprintf("%s%s", strcmp(top, "/") == 0 ? "" : top, rel);
        } else {
                *ret_why = xasprintf("no cgroup v2 subtree is delegated to uid %u (its cgroup %s "
                                     "is not its own)",
                                     (unsigned)geteuid(), own ? own : "(unknown)");
                return 0;
        }
        /* The nearest existing ancestor must be ours, or mkdir fails anyway. */
        _cleanup_free_ char *probe = xasprintf("%s%s", CGROUP_ROOT, path);
        while (access(probe, F_OK) < 0) {
                char *s = strrchr(probe, '/');
                if (!s || s == probe)
                        break;
                *s = '\0';
        }
        if (!owned_dir(probe)) {
                *ret_why = xasprintf("%s is not writable by uid %u", probe, (unsigned)geteuid());
                return 0;
        }
        _cleanup_free_ char *abs_path = xasprintf("/%s", path + (path[0] == '/'));
        husk_config tmp = *cfg;
        tmp.linux_.cgroups_path = abs_path;
        return cgroup_plan(id, &tmp, ret, err);
}

char *husk_rootless_cgroup_root(char **ret_why)
{
        *ret_why = NULL;
        if (!util_rootless())
                return xstrdup("/");
        struct statfs sfs;
        if (statfs(CGROUP_ROOT, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                *ret_why = xstrdup("this host has cgroup v1, where only root can create cgroups");
                return NULL;
        }
        _cleanup_free_ char *own = NULL;
        char *top = cgroup_v2_delegated_root(&own);
        if (!top)
                *ret_why = xasprintf("no cgroup v2 subtree is delegated to the user (its cgroup "
                                     "%s is not its own)",
                                     own ? own : "(unknown)");
        return top;
}
