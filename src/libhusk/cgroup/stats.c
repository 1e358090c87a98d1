/* SPDX-License-Identifier: Apache-2.0 */
/* Resource usage read back from the container's cgroup, in the shape of runc's `events` stats
 * (cpu, memory, pids, blkio, hugetlb). Host side. Missing files (a controller not mounted, a
 * kernel without memsw) leave their fields at 0, as runc does. */
#include "cgroup/cgroup_internal.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static char *read_cg(cgroup_handle *h, const char *ctrl, const char *file)
{
        cg_hier *c = cgroup_find_hier(h, ctrl);
        if (!c)
                return NULL;
        _cleanup_free_ char *path = xasprintf("%s/%s", c->dir, file);
        char *text = NULL;
        size_t len = 0;
        if (read_file_at(AT_FDCWD, path, 1 << 20, &text, &len) < 0)
                return NULL;
        return text;
}

/* A single number; "max" and unreadable files are 0. */
static uint64_t read_u64(cgroup_handle *h, const char *ctrl, const char *file)
{
        _cleanup_free_ char *t = read_cg(h, ctrl, file);
        uint64_t v = 0;
        if (!t)
                return 0;
        t[strcspn(t, "\n")] = '\0';
        if (parse_uint64(t, &v) < 0)
                return 0;
        return v;
}

/* "key value" lines (memory.stat, cpu.stat): the value of key, 0 when absent. */
static uint64_t kv_get(const char *text, const char *key)
{
        size_t kl = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
                        uint64_t v = 0;
                        char num[32];
                        size_t n = strcspn(p + kl + 1, "\n");
                        if (n >= sizeof(num))
                                return 0;
                        memcpy(num, p + kl + 1, n);
                        num[n] = '\0';
                        return parse_uint64(num, &v) < 0 ? 0 : v;
                }
        }
        return 0;
}

static void kv_object(json_writer *w, const char *text)
{
        json_obj_begin(w);
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                _cleanup_free_ char *line = xstrndup(p, n);
                char *sp = strchr(line, ' ');
                uint64_t v;
                if (sp) {
                        *sp = '\0';
                        if (parse_uint64(sp + 1, &v) == 0)
                                json_kv_uint(w, line, v);
                }
                p = nl ? nl + 1 : NULL;
        }
        json_obj_end(w);
}

/* Space-separated numbers (cpuacct.usage_percpu*) as a JSON array. */
static void num_array(json_writer *w, const char *key, const char *text)
{
        json_key(w, key);
        if (!text) {
                json_null(w);
                return;
        }
        json_arr_begin(w);
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        for (char *t = strtok_r(copy, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                uint64_t v;
                if (parse_uint64(t, &v) == 0)
                        json_uint(w, v);
        }
        json_arr_end(w);
}

static void mem_entry(json_writer *w, cgroup_handle *h, const char *key, const char *prefix)
{
        char f[96];
        json_key(w, key);
        json_obj_begin(w);
        snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
        json_kv_uint(w, "limit", read_u64(h, "memory", f));
        snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
        json_kv_uint(w, "usage", read_u64(h, "memory", f));
        snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
        json_kv_uint(w, "max", read_u64(h, "memory", f));
        snprintf(f, sizeof(f), "%s.failcnt", prefix);
        json_kv_uint(w, "failcnt", read_u64(h, "memory", f));
        json_obj_end(w);
}

static void cpu_v1(json_writer *w, cgroup_handle *h)
{
        _cleanup_free_ char *percpu = read_cg(h, "cpuacct", "cpuacct.usage_percpu");
        _cleanup_free_ char *percpu_sys = read_cg(h, "cpuacct", "cpuacct.usage_percpu_sys");
        _cleanup_free_ char *percpu_user = read_cg(h, "cpuacct", "cpuacct.usage_percpu_user");
        _cleanup_free_ char *stat = read_cg(h, "cpuacct", "cpuacct.stat");
        _cleanup_free_ char *cpustat = read_cg(h, "cpu", "cpu.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t tick_ns = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
        json_key(w, "usage");
        json_obj_begin(w);
        json_kv_uint(w, "total", read_u64(h, "cpuacct", "cpuacct.usage"));
        num_array(w, "percpu", percpu);
        num_array(w, "percpu_kernel", percpu_sys);
        num_array(w, "percpu_user", percpu_user);
        json_kv_uint(w, "kernel", stat ? kv_get(stat, "system") * tick_ns : 0);
        json_kv_uint(w, "user", stat ? kv_get(stat, "user") * tick_ns : 0);
        json_obj_end(w);
        json_key(w, "throttling");
        json_obj_begin(w);
        if (cpustat) {
                json_kv_uint(w, "periods", kv_get(cpustat, "nr_periods"));
                json_kv_uint(w, "throttled_periods", kv_get(cpustat, "nr_throttled"));
                json_kv_uint(w, "throttled_time", kv_get(cpustat, "throttled_time"));
        }
        json_obj_end(w);
}

static void cpu_v2(json_writer *w, cgroup_handle *h)
{
        _cleanup_free_ char *st = read_cg(h, "cpu", "cpu.stat");
        json_key(w, "usage");
        json_obj_begin(w);
        json_kv_uint(w, "total", st ? kv_get(st, "usage_usec") * 1000 : 0);
        json_kv_uint(w, "kernel", st ? kv_get(st, "system_usec") * 1000 : 0);
        json_kv_uint(w, "user", st ? kv_get(st, "user_usec") * 1000 : 0);
        json_obj_end(w);
        json_key(w, "throttling");
        json_obj_begin(w);
        if (st) {
                json_kv_uint(w, "periods", kv_get(st, "nr_periods"));
                json_kv_uint(w, "throttled_periods", kv_get(st, "nr_throttled"));
                json_kv_uint(w, "throttled_time", kv_get(st, "throttled_usec") * 1000);
        }
        json_obj_end(w);
}

static void memory_stats(json_writer *w, cgroup_handle *h)
{
        json_key(w, "memory");
        json_obj_begin(w);
        if (h->version == 2) {
                _cleanup_free_ char *st = read_cg(h, "memory", "memory.stat");
                json_kv_uint(w, "cache", st ? kv_get(st, "file") : 0);
                json_key(w, "usage");
                json_obj_begin(w);
                json_kv_uint(w, "usage", read_u64(h, "memory", "memory.current"));
                json_kv_uint(w, "limit", read_u64(h, "memory", "memory.max"));
                json_kv_uint(w, "max", read_u64(h, "memory", "memory.peak"));
                json_obj_end(w);
                json_key(w, "swap");
                json_obj_begin(w);
                json_kv_uint(w, "usage", read_u64(h, "memory", "memory.swap.current"));
                json_kv_uint(w, "limit", read_u64(h, "memory", "memory.swap.max"));
                json_obj_end(w);
                json_key(w, "raw");
                kv_object(w, st);
        } else {
                _cleanup_free_ char *st = read_cg(h, "memory", "memory.stat");
                json_kv_uint(w, "cache", st ? kv_get(st, "cache") : 0);
                mem_entry(w, h, "usage", "memory");
                mem_entry(w, h, "swap", "memory.memsw");
                mem_entry(w, h, "kernel", "memory.kmem");
                mem_entry(w, h, "kernelTCP", "memory.kmem.tcp");
                json_key(w, "raw");
                kv_object(w, st);
        }
        json_obj_end(w);
}

void cgroup_stats_write(cgroup_handle *h, struct json_writer *w)
{
        json_obj_begin(w);
        json_key(w, "cpu");
        json_obj_begin(w);
        if (h->version == 2)
                cpu_v2(w, h);
        else
                cpu_v1(w, h);
        json_obj_end(w);
        memory_stats(w, h);
        json_key(w, "pids");
        json_obj_begin(w);
        json_kv_uint(w, "current", read_u64(h, "pids", "pids.current"));
        json_kv_uint(w, "limit", read_u64(h, "pids", "pids.max"));
        json_obj_end(w);
        json_key(w, "blkio");
        json_obj_begin(w);
        json_obj_end(w);
        json_key(w, "hugetlb");
        json_obj_begin(w);
        json_obj_end(w);
        json_obj_end(w);
}
