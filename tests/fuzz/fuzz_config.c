/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: config.json bytes -> husk_config (config_parse validates as it parses), then the
 * pure planning the host side does before it applies anything: namespaces, mount options and
 * destinations, cgroup path, device rules and their BPF program, cpu.max, sysctl paths, id maps
 * and the seccomp filter (compiled in memory, no cache). The same bytes also go to the parsers of
 * `exec --process` and `update --resources`. Nothing is applied. */
#include "fuzz.h"

#include "cgroup/cgroup.h"
#include "cgroup/cgroup_internal.h"
#include "config/oci_config.h"
#include "ns/ns.h"
#include "process/process.h"
#include "rootfs/rootfs-internal.h"
#include "rootfs/rootfs.h"
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

static void plan_devices(const husk_config *c)
{
        const config_resources *r = c->linux_.resources;
        config_device_rule *extra = NULL, *rules = NULL;
        size_t n_extra = 0, n = 0;
        cgroup_devices_to_rules(c->linux_.devices, c->linux_.n_devices, &extra, &n_extra);
        cgroup_device_rules(r ? r->devices : NULL, r ? r->n_devices : 0, extra, n_extra, &rules,
                            &n);
        if (n == 0 || rules[0].type != 'a')
                fuzz_fail("device rules do not start with an all-devices reset (%zu rules)", n);
        char line[64];
        for (size_t i = 0; i < n; i++)
                cgroup_device_rule_v1(&rules[i], line, sizeof(line));
        struct bpf_insn *prog = NULL;
        size_t n_prog = 0;
        cgroup_device_bpf(rules, n, &prog, &n_prog);
        free(prog);
        free(rules);
        free(extra);
}

static void plan_resources(const config_resources *r)
{
        if (!r)
                return;
        if (r->has_cpu) {
                free(cgroup_cpu_max(&r->cpu, NULL));
                free(cgroup_cpu_max(&r->cpu, "max"));
                (void)cgroup_shares_to_weight(r->cpu.shares);
        }
        if (r->has_memory) {
                bool set = false;
                int64_t v = 0;
                husk_error_t err = { 0 };
                (void)cgroup_swap_to_v2(r->memory.has_limit, r->memory.limit, r->memory.swap, &set,
                                        &v, &err);
        }
        if (r->has_blkio)
                (void)cgroup_blkio_to_io_weight(r->blkio.weight);
}

static void plan_seccomp(const config_seccomp *s)
{
        if (!s)
                return;
        char key[65];
        seccomp_cache_key(s, key);
        seccomp_prog *p = NULL;
        husk_error_t err = { 0 };
        if (seccomp_compile_cache(s, NULL, &p, &err) < 0)
                return;
        /* Run the filter on a few calls: the interpreter must stay inside the program. */
        static const int nrs[] = { 0, 1, 59, 101, 165, 435, 999 };
        uint64_t args[6] = { 0, 1, 2, 3, 4, 5 };
        for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
                (void)seccomp_prog_eval(p, 0xc000003e /* AUDIT_ARCH_X86_64 */, nrs[i], args);
        seccomp_prog_free(p);
}

static void plan(const husk_config *c)
{
        husk_error_t err = { 0 };
        ns_plan ns;
        bool have_ns = ns_plan_make(c, &ns, &err) == 0;
        for (size_t i = 0; i < c->n_mounts; i++) {
                mount_flags f;
                if (rootfs_parse_mount_options(c->mounts[i].options, c->mounts[i].n_options, &f,
                                               &err) == 0)
                        mount_flags_done(&f);
                if (c->mounts[i].destination)
                        free(rootfs_clean_path(c->mounts[i].destination));
        }
        for (size_t i = 0; i < c->linux_.n_masked_paths; i++)
                free(rootfs_clean_path(c->linux_.masked_paths[i]));
        for (size_t i = 0; i < c->linux_.n_readonly_paths; i++)
                free(rootfs_clean_path(c->linux_.readonly_paths[i]));
        char *cg = NULL;
        if (cgroup_path_resolve(c->linux_.cgroups_path, "fuzz", &cg, &err) == 0) {
                if (cg[0] != '/' || strstr(cg, "/../") || strstr(cg, "//"))
                        fuzz_fail("cgroup path '%s' from '%s'", cg, c->linux_.cgroups_path);
                free(cg);
        }
        if (have_ns)
                for (size_t i = 0; i < c->linux_.n_sysctl; i++) {
                        char *path = NULL;
                        if (process_sysctl_path(c->linux_.sysctl[i].key, &ns, &path, &err) == 0) {
                                if (strstr(path, ".."))
                                        fuzz_fail("sysctl path '%s'", path);
                                free(path);
                        }
                }
        free(ns_format_idmap(c->linux_.uid_mappings, c->linux_.n_uid_mappings));
        free(ns_format_idmap(c->linux_.gid_mappings, c->linux_.n_gid_mappings));
        plan_devices(c);
        plan_resources(c->linux_.resources);
        plan_seccomp(c->linux_.seccomp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_strndup(data, size);
        husk_error_t err = { 0 };
        husk_config *c = NULL;
        if (config_parse(text, size, "config.json", &c, &err) == 0) {
                plan(c);
                config_free(c);
        } else if (err.msg[0] == '\0') {
                fuzz_fail("config_parse failed without a message");
        }
        config_process *p = NULL;
        if (config_parse_process(text, size, "process.json", &p, &err) == 0)
                config_process_free(p);
        config_resources *r = NULL;
        if (config_parse_resources(text, size, "resources.json", &r, &err) == 0) {
                plan_resources(r);
                config_resources_free(r);
        }
        free(text);
        return 0;
}
