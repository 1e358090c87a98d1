/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources -> cgroup files, for both drivers. The conversions (shares -> weight, swap) are
 * pure functions; only files the config asks for are written (v1 cgroup writes are not free).
 * Host side only. */
#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- plan */

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
        /* Maps the v1 range [2, 262144] linearly onto the v2 range [1, 10000], the conversion
         * every runtime uses so that podman's --cpu-shares means the same on both. */
        if (shares == 0)
                return 0;
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_blkio_to_io_weight(uint64_t weight)
{
        /* blkio [10, 1000] -> io.weight [1, 10000] */
        if (weight == 0)
                return 0;
        if (weight < 10)
                weight = 10;
        if (weight > 1000)
                weight = 1000;
        return 1 + ((weight - 10) * 9999) / 990;
}

int cgroup_swap_to_v2(bool has_limit, int64_t limit, int64_t swap, bool *ret_set, int64_t *ret,
                      husk_error_t *err)
{
        *ret_set = false;
        /* OCI's swap is the v1 memory+swap total; v2 limits swap alone. */
        if (!has_limit)
                limit = 0;
        if (swap == 0 && limit != -1)
                return 0; /* swap not set */
        if (swap == -1 || swap == 0) {
                /* unlimited, or unlimited memory without a swap value: unlimited as on v1 */
                *ret_set = true;
                *ret = -1;
                return 0;
        }
        if (limit <= 0)
                return husk_error_set(err, EINVAL,
                                      "linux.resources.memory.swap: a swap limit needs a memory "
                                      "limit on cgroup v2");
        if (swap < limit)
                return husk_error_set(err, EINVAL,
                                      "linux.resources.memory.swap (%" PRId64
                                      ") must be >= memory.limit (%" PRId64 ")",
                                      swap, limit);
        *ret_set = true;
        *ret = swap - limit;
        return 0;
}

char *cgroup_cpu_max(const config_cpu *c, const char *cur_quota)
{
        char quota[32] = "max";
        if (c->has_quota && c->quota > 0)
                snprintf(quota, sizeof(quota), "%" PRId64, c->quota);
        else if (!c->has_quota && cur_quota && *cur_quota)
                snprintf(quota, sizeof(quota), "%s", cur_quota);
        if (c->has_period && c->period > 0)
                return xasprintf("%s %" PRIu64, quota, c->period);
        return xstrdup(quota);
}

/* ---------------------------------------------------------------- apply helpers */

static int wr(const cg_hier *c, const char *file, const char *val, husk_error_t *err)
{
        _cleanup_free_ char *f = xasprintf("%s/%s", c->dir, file);
        int r = write_file_at(AT_FDCWD, f, val);
        if (r == -ENOENT)
                return husk_error_set(err, ENOTSUP,
                                      "cannot set %s: the kernel has no such cgroup file (%s)",
                                      file, f);
        if (r < 0)
                return util_syserr(err, -r, "write \"%s\" to %s", val, f);
        return 0;
}

static int wr_i64(const cg_hier *c, const char *file, int64_t v, husk_error_t *err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return wr(c, file, buf, err);
}

/* v2 convention: a negative limit is "max" */
static int wr_max(const cg_hier *c, const char *file, int64_t v, husk_error_t *err)
{
        if (v < 0)
                return wr(c, file, "max", err);
        return wr_i64(c, file, v, err);
}

static bool has_file(const cg_hier *c, const char *file)
{
        _cleanup_free_ char *f = xasprintf("%s/%s", c->dir, file);
        return access(f, F_OK) == 0;
}

static int need(cgroup_handle *h, const char *ctrl, const char *what, cg_hier **ret,
                husk_error_t *err)
{
        *ret = cgroup_find_hier(h, ctrl);
        if (!*ret)
                return husk_error_set(err, ENOTSUP,
                                      "linux.resources.%s: the %s cgroup controller is not "
                                      "mounted",
                                      what, ctrl);
        return 0;
}

/* ---------------------------------------------------------------- memory */

static int memory_v1(cgroup_handle *h, const config_memory *m, husk_error_t *err)
{
        cg_hier *c;
        int r = need(h, "memory", "memory", &c, err);
        if (r < 0)
                return r;
        bool swap = m->has_swap && m->swap != 0;
        if (m->has_limit) {
                /* memsw must stay >= limit at every step: when the new limit is above the current
                 * memsw, raise memsw first (to the new value, or unlimited). */
                husk_error_t first;
                r = wr_i64(c, "memory.limit_in_bytes", m->limit, &first);
                if (r == -EINVAL && (swap || m->limit == -1)) {
                        r = wr_i64(c, "memory.memsw.limit_in_bytes", swap ? m->swap : -1, err);
                        if (r < 0)
                                return r;
                        swap = false;
                        r = wr_i64(c, "memory.limit_in_bytes", m->limit, err);
                } else if (r < 0) {
                        *err = first;
                }
                if (r < 0)
                        return r;
        }
        if (swap) {
                r = wr_i64(c, "memory.memsw.limit_in_bytes", m->swap, err);
                if (r < 0)
                        return husk_error_prefix(err, "linux.resources.memory.swap");
        }
        if (m->has_reservation && (r = wr_i64(c, "memory.soft_limit_in_bytes", m->reservation, err)) < 0)
                return r;
        /* memory.kernel: the kernel no longer enforces kmem limits (deprecated in the spec) */
        if (m->has_kernel_tcp &&
            (r = wr_i64(c, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp, err)) < 0)
                return r;
        if (m->has_swappiness) {
                if (m->swappiness > 100)
                        return husk_error_set(err, EINVAL,
                                              "linux.resources.memory.swappiness must be 0..100");
                if ((r = wr_i64(c, "memory.swappiness", (int64_t)m->swappiness, err)) < 0)
                        return r;
        }
        if (m->has_disable_oom_killer &&
            (r = wr(c, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err)) < 0)
                return r;
        if (m->has_use_hierarchy &&
            (r = wr(c, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0", err)) < 0)
                return r;
        return 0;
}

static int memory_v2(cgroup_handle *h, const config_memory *m, husk_error_t *err)
{
        const cg_hier *c = &h->hier[0];
        int r;
        if (m->has_swappiness)
                return husk_error_set(err, ENOTSUP,
                                      "linux.resources.memory.swappiness requires cgroup v1");
        if (m->has_swap) {
                int64_t v2swap = 0;
                bool set = false;
                r = cgroup_swap_to_v2(m->has_limit, m->limit, m->swap, &set, &v2swap, err);
                if (r < 0)
                        return r;
                /* The file is missing without swap accounting: fine unless swap is limited */
                if (set && (v2swap >= 0 || has_file(c, "memory.swap.max")) &&
                    (r = wr_max(c, "memory.swap.max", v2swap, err)) < 0)
                        return r;
        }
        if (m->has_limit && (r = wr_max(c, "memory.max", m->limit, err)) < 0)
                return r;
        if (m->has_reservation && (r = wr_max(c, "memory.low", m->reservation, err)) < 0)
                return r;
        /* disableOOMKiller, kernel, kernelTCP, useHierarchy: no v2 equivalent; as runc, not an
         * error (podman sends some of them by default) */
        return 0;
}

/* ---------------------------------------------------------------- cpu, cpuset */

static int cpuset(cgroup_handle *h, const config_cpu *p, husk_error_t *err)
{
        if (!p->cpus && !p->mems)
                return 0;
        cg_hier *c;
        int r = need(h, "cpuset", "cpu.cpus", &c, err);
        if (r < 0)
                return r;
        if (p->cpus && *p->cpus && (r = wr(c, "cpuset.cpus", p->cpus, err)) < 0)
                return r;
        if (p->mems && *p->mems && (r = wr(c, "cpuset.mems", p->mems, err)) < 0)
                return r;
        return 0;
}

/* ---- v1 realtime budgets ----
 * The kernel lets a cgroup's realtime share (cpu.rt_runtime_us / cpu.rt_period_us) be at most
 * what its parent has left after its other children (tg_rt_schedulable), and a cgroup starts
 * with none: under a fresh /husk parent every realtimeRuntime fails with EINVAL. Shares are
 * compared as the kernel does, in 2^-20 units (to_ratio). */
#define RT_BW_SHIFT 20

static uint64_t rt_ratio(uint64_t period, int64_t runtime)
{
        if (runtime < 0)
                return 1ULL << RT_BW_SHIFT; /* -1: unlimited */
        if (period == 0)
                return 0;
        return ((uint64_t)runtime << RT_BW_SHIFT) / period;
}

static int rt_read(const char *dir, uint64_t *ret_period, int64_t *ret_runtime)
{
        _cleanup_free_ char *pf = xasprintf("%s/cpu.rt_period_us", dir);
        _cleanup_free_ char *rf = xasprintf("%s/cpu.rt_runtime_us", dir);
        _cleanup_free_ char *pt = NULL, *rt = NULL;
        int r = read_file_at(AT_FDCWD, pf, 64, &pt, NULL);
        if (r == 0)
                r = read_file_at(AT_FDCWD, rf, 64, &rt, NULL);
        if (r < 0)
                return r;
        pt[strcspn(pt, "\n")] = rt[strcspn(rt, "\n")] = '\0';
        if (parse_uint64(pt, ret_period) < 0 || parse_int64(rt, ret_runtime) < 0)
                return -EINVAL;
        return 0;
}

/* The share dir's children hold, leaving out the child named skip. */
static uint64_t rt_children_share(const char *dir, const char *skip)
{
        uint64_t sum = 0;
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.' || strcmp(de->d_name, skip) == 0)
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                uint64_t per = 0;
                int64_t run = 0;
                if (rt_read(sub, &per, &run) == 0)
                        sum += rt_ratio(per, run);
        }
        return sum;
}

/* Grant every ancestor of the container's cgroup (below the hierarchy's root, whose budget is the
 * host's sched_rt_runtime_us) the share its children then need, top-down, only ever raising a
 * budget. Bounded: at most 32 levels are looked at. */
static int rt_grant_parents(const cg_hier *c, uint64_t period, int64_t runtime, husk_error_t *err)
{
        enum { MAX_LEVELS = 32 };
        char *dirs[MAX_LEVELS];
        uint64_t need[MAX_LEVELS];
        size_t n = 0, base = strlen(c->mountpoint);
        uint64_t child_need = rt_ratio(period, runtime);
        _cleanup_free_ char *p = xstrdup(c->dir);
        int ret = 0;
        for (char *slash; n < MAX_LEVELS && (slash = strrchr(p, '/')) && (size_t)(slash - p) > base;
             n++) {
                *slash = '\0'; /* p: the parent; slash + 1: the child's name */
                need[n] = child_need + rt_children_share(p, slash + 1);
                dirs[n] = xstrdup(p);
                child_need = need[n];
        }
        for (size_t i = n; i-- > 0 && ret == 0;) {
                uint64_t per = 0;
                int64_t run = 0;
                int r = rt_read(dirs[i], &per, &run);
                if (r < 0) {
                        ret = util_syserr(err, -r, "read the realtime budget of %s", dirs[i]);
                        break;
                }
                if (rt_ratio(per, run) >= need[i])
                        continue;
                uint64_t want = (need[i] * per + (1ULL << RT_BW_SHIFT) - 1) >> RT_BW_SHIFT;
                if (want > per)
                        want = per;
                char buf[32];
                snprintf(buf, sizeof(buf), "%" PRIu64, want);
                _cleanup_free_ char *f = xasprintf("%s/cpu.rt_runtime_us", dirs[i]);
                r = write_file_at(AT_FDCWD, f, buf);
                if (r < 0)
                        ret = util_syserr(err, -r,
                                          "linux.resources.cpu.realtimeRuntime: give the parent "
                                          "cgroup %s a realtime budget (write %s to "
                                          "cpu.rt_runtime_us)%s",
                                          dirs[i], buf,
                                          r == -EINVAL ? "; the host's realtime budget "
                                                         "(kernel.sched_rt_runtime_us) is used up"
                                                       : "");
        }
        for (size_t i = 0; i < n; i++)
                free(dirs[i]);
        return ret;
}

static int cpu_rt_v1(cg_hier *c, const config_cpu *p, husk_error_t *err)
{
        int r;
        uint64_t period = p->has_realtime_period ? p->realtime_period : 0;
        if (!period) {
                int64_t cur_run = 0;
                if ((r = rt_read(c->dir, &period, &cur_run)) < 0)
                        return util_syserr(err, -r, "read the realtime budget of %s", c->dir);
        }
        /* The parents first (runc's tests and crun's systemd driver give the parent the budget
         * by hand); only a runtime above 0 needs one. */
        if (p->has_realtime_runtime && p->realtime_runtime != 0 &&
            (r = rt_grant_parents(c, period, p->realtime_runtime, err)) < 0)
                return r;
        /* rt_period before rt_runtime: the runtime must fit the period */
        if (p->has_realtime_period && p->realtime_period &&
            (r = wr_i64(c, "cpu.rt_period_us", (int64_t)p->realtime_period, err)) < 0) {
                /* a shorter period may not fit the old runtime: runtime first, then period */
                if (!p->has_realtime_runtime ||
                    (r = wr_i64(c, "cpu.rt_runtime_us", p->realtime_runtime, err)) < 0)
                        return r;
                return wr_i64(c, "cpu.rt_period_us", (int64_t)p->realtime_period, err);
        }
        if (!p->has_realtime_runtime)
                return 0;
        /* A sibling removed a moment ago still holds its share until the kernel frees its group
         * (after an RCU grace period), invisible to rt_children_share: retry briefly. */
        for (int i = 0;; i++) {
                r = wr_i64(c, "cpu.rt_runtime_us", p->realtime_runtime, err);
                if (r != -EINVAL || i == 20)
                        return r;
                struct timespec ts = { 0, 10 * 1000000L };
                nanosleep(&ts, NULL);
        }
}

static int cpu_v1(cgroup_handle *h, const config_cpu *p, husk_error_t *err)
{
        bool any = p->has_shares || p->has_quota || p->has_period || p->has_burst ||
                   p->has_realtime_period || p->has_realtime_runtime || p->has_idle;
        cg_hier *c = NULL;
        int r = 0;
        if (any && (r = need(h, "cpu", "cpu", &c, err)) < 0)
                return r;
        if (p->has_shares && p->shares && (r = wr_i64(c, "cpu.shares", (int64_t)p->shares, err)) < 0)
                return r;
        if (p->has_period && p->period) {
                husk_error_t first;
                r = wr_i64(c, "cpu.cfs_period_us", (int64_t)p->period, &first);
                if (r < 0 && p->has_quota) {
                        /* the old quota may not fit the new period: quota first, then period */
                        r = wr_i64(c, "cpu.cfs_quota_us", p->quota, err);
                        if (r >= 0)
                                r = wr_i64(c, "cpu.cfs_period_us", (int64_t)p->period, err);
                } else if (r < 0) {
                        *err = first;
                }
                if (r < 0)
                        return r;
        }
        if (p->has_quota && p->quota != 0 &&
            (r = wr_i64(c, "cpu.cfs_quota_us", p->quota > 0 ? p->quota : -1, err)) < 0)
                return r;
        if (p->has_burst && (r = wr_i64(c, "cpu.cfs_burst_us", (int64_t)p->burst, err)) < 0)
                return r;
        if ((p->has_realtime_period || p->has_realtime_runtime) && (r = cpu_rt_v1(c, p, err)) < 0)
                return r;
        if (p->has_idle && (r = wr_i64(c, "cpu.idle", p->idle, err)) < 0)
                return r;
        return cpuset(h, p, err);
}

static int cpu_v2(cgroup_handle *h, const config_cpu *p, husk_error_t *err)
{
        const cg_hier *c = &h->hier[0];
        int r;
        if ((p->has_realtime_period && p->realtime_period) ||
            (p->has_realtime_runtime && p->realtime_runtime))
                return husk_error_set(err, ENOTSUP,
                                      "linux.resources.cpu.realtimeRuntime/realtimePeriod "
                                      "require cgroup v1");
        if (p->has_shares && p->shares &&
            (r = wr_i64(c, "cpu.weight", (int64_t)cgroup_shares_to_weight(p->shares), err)) < 0)
                return r;
        if ((p->has_quota && p->quota != 0) || (p->has_period && p->period)) {
                _cleanup_free_ char *cur = NULL;
                if (!p->has_quota) {
                        _cleanup_free_ char *f = xasprintf("%s/cpu.max", c->dir);
                        if (read_file_at(AT_FDCWD, f, 256, &cur, NULL) == 0)
                                cur[strcspn(cur, " \n")] = '\0';
                }
                _cleanup_free_ char *v = cgroup_cpu_max(p, cur);
                if ((r = wr(c, "cpu.max", v, err)) < 0)
                        return r;
        }
        if (p->has_burst && (r = wr_i64(c, "cpu.max.burst", (int64_t)p->burst, err)) < 0)
                return r;
        if (p->has_idle && (r = wr_i64(c, "cpu.idle", p->idle, err)) < 0)
                return r;
        return cpuset(h, p, err);
}

/* ---------------------------------------------------------------- blkio / io */

static int blkio_v1(cgroup_handle *h, const config_blkio *b, husk_error_t *err)
{
        cg_hier *c;
        int r = need(h, "blkio", "blockIO", &c, err);
        if (r < 0)
                return r;
        /* CFQ is gone; with BFQ the weight files carry a bfq. prefix */
        const char *wf = has_file(c, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
        const char *wdf = has_file(c, "blkio.weight_device") ? "blkio.weight_device"
                                                             : "blkio.bfq.weight_device";
        char buf[96];
        if (b->has_weight && b->weight && (r = wr_i64(c, wf, b->weight, err)) < 0)
                return r;
        if (b->has_leaf_weight && b->leaf_weight &&
            (r = wr_i64(c, "blkio.leaf_weight", b->leaf_weight, err)) < 0)
                return r;
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const config_weight_device *d = &b->weight_device[i];
                if (d->has_weight) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major,
                                 d->minor, d->weight);
                        if ((r = wr(c, wdf, buf, err)) < 0)
                                return r;
                }
                if (d->has_leaf_weight) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major,
                                 d->minor, d->leaf_weight);
                        if ((r = wr(c, "blkio.leaf_weight_device", buf, err)) < 0)
                                return r;
                }
        }
        const struct {
                const config_throttle_device *v;
                size_t n;
                const char *file;
        } t[] = {
                { b->throttle_read_bps, b->n_throttle_read_bps, "blkio.throttle.read_bps_device" },
                { b->throttle_write_bps, b->n_throttle_write_bps, "blkio.throttle.write_bps_device" },
                { b->throttle_read_iops, b->n_throttle_read_iops, "blkio.throttle.read_iops_device" },
                { b->throttle_write_iops, b->n_throttle_write_iops,
                  "blkio.throttle.write_iops_device" },
        };
        for (size_t k = 0; k < ARRAY_SIZE(t); k++)
                for (size_t i = 0; i < t[k].n; i++) {
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64,
                                 t[k].v[i].major, t[k].v[i].minor, t[k].v[i].rate);
                        if ((r = wr(c, t[k].file, buf, err)) < 0)
                                return r;
                }
        return 0;
}

static int blkio_v2(cgroup_handle *h, const config_blkio *b, husk_error_t *err)
{
        const cg_hier *c = &h->hier[0];
        /* io.bfq.weight takes the blkio range as is; io.weight needs the conversion */
        bool bfq = has_file(c, "io.bfq.weight");
        const char *wf = bfq ? "io.bfq.weight" : "io.weight";
        char buf[128];
        int r;
        if (b->has_leaf_weight && b->leaf_weight)
                return husk_error_set(err, ENOTSUP,
                                      "linux.resources.blockIO.leafWeight requires cgroup v1");
        if (b->has_weight && b->weight) {
                uint64_t w = bfq ? b->weight : cgroup_blkio_to_io_weight(b->weight);
                snprintf(buf, sizeof(buf), "default %" PRIu64, w);
                if ((r = wr(c, wf, buf, err)) < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const config_weight_device *d = &b->weight_device[i];
                if (!d->has_weight)
                        continue;
                uint64_t w = bfq ? d->weight : cgroup_blkio_to_io_weight(d->weight);
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                         w);
                if ((r = wr(c, wf, buf, err)) < 0)
                        return r;
        }
        const struct {
                const config_throttle_device *v;
                size_t n;
                const char *key;
        } t[] = {
                { b->throttle_read_bps, b->n_throttle_read_bps, "rbps" },
                { b->throttle_write_bps, b->n_throttle_write_bps, "wbps" },
                { b->throttle_read_iops, b->n_throttle_read_iops, "riops" },
                { b->throttle_write_iops, b->n_throttle_write_iops, "wiops" },
        };
        for (size_t k = 0; k < ARRAY_SIZE(t); k++)
                for (size_t i = 0; i < t[k].n; i++) {
                        const config_throttle_device *d = &t[k].v[i];
                        if (d->rate)
                                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                                         d->major, d->minor, t[k].key, d->rate);
                        else
                                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=max",
                                         d->major, d->minor, t[k].key);
                        if ((r = wr(c, "io.max", buf, err)) < 0)
                                return r;
                }
        return 0;
}

/* ---------------------------------------------------------------- hugetlb, unified */

static int hugetlb(cgroup_handle *h, const config_resources *res, husk_error_t *err)
{
        cg_hier *c;
        int r = need(h, "hugetlb", "hugepageLimits", &c, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const config_hugepage_limit *l = &res->hugepage_limits[i];
                if (!l->page_size || !*l->page_size || strchr(l->page_size, '/'))
                        return husk_error_set(err, EINVAL,
                                              "linux.resources.hugepageLimits[%zu].pageSize is "
                                              "invalid",
                                              i);
                _cleanup_free_ char *f = xasprintf(h->version == 2 ? "hugetlb.%s.max"
                                                                    : "hugetlb.%s.limit_in_bytes",
                                                   l->page_size);
                if ((r = wr_i64(c, f, (int64_t)l->limit, err)) < 0)
                        return r;
        }
        return 0;
}

static int unified(cgroup_handle *h, const config_resources *res, husk_error_t *err)
{
        if (h->version != 2)
                return husk_error_set(err, ENOTSUP, "linux.resources.unified requires cgroup v2");
        for (size_t i = 0; i < res->n_unified; i++) {
                const config_kv *kv = &res->unified[i];
                if (!*kv->key || strchr(kv->key, '/') || kv->key[0] == '.')
                        return husk_error_set(err, EINVAL,
                                              "linux.resources.unified: invalid key \"%s\"",
                                              kv->key);
                int r = wr(&h->hier[0], kv->key, kv->value, err);
                if (r < 0)
                        return husk_error_prefix(err, "linux.resources.unified[\"%s\"]", kv->key);
        }
        return 0;
}

/* ---------------------------------------------------------------- apply */

int cgroup_apply_resources(cgroup_handle *h, const config_resources *r, bool creating,
                           husk_error_t *err)
{
        bool v2 = h->version == 2;
        int ret;
        /* Devices are always restricted at create (deny all + standard devices); an update
         * rewrites them only when it carries rules. */
        if (creating || r->n_devices) {
                ret = cgroup_devices_apply(h, r->devices, r->n_devices, creating, err);
                if (ret < 0)
                        return ret;
        }
        if (r->has_memory && (ret = (v2 ? memory_v2 : memory_v1)(h, &r->memory, err)) < 0)
                return ret;
        if (r->has_cpu && (ret = (v2 ? cpu_v2 : cpu_v1)(h, &r->cpu, err)) < 0)
                return ret;
        if (r->has_pids) {
                cg_hier *c;
                if ((ret = need(h, "pids", "pids", &c, err)) < 0)
                        return ret;
                if ((ret = wr_max(c, "pids.max", r->pids_limit > 0 ? r->pids_limit : -1, err)) < 0)
                        return ret;
        }
        if (r->has_blkio && (ret = (v2 ? blkio_v2 : blkio_v1)(h, &r->blkio, err)) < 0)
                return ret;
        if (r->n_hugepage_limits && (ret = hugetlb(h, r, err)) < 0)
                return ret;
        if (r->n_unified && (ret = unified(h, r, err)) < 0)
                return ret;
        if (r->has_network)
                return husk_error_set(err, ENOTSUP, "linux.resources.network is not supported");
        if (r->has_rdma)
                return husk_error_set(err, ENOTSUP, "linux.resources.rdma is not supported");
        return 0;
}
