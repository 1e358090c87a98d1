/* SPDX-License-Identifier: Apache-2.0 */
/* husk_features_json: the runtime-spec "features" document (features.md). It lists only what
 * husk applies: mount options rejected by rootfs/options.c (idmap, ridmap) and tmpcopyup are
 * absent (idmapped mounts work through uidMappings/gidMappings), AppArmor and SELinux are
 * disabled, systemd cgroups are not driven. */
#include "caps/caps.h"
#include "util/json.h"
#include "util/util.h"

#include <string.h>
#include <sys/capability.h>

static const char *const hook_names[] = { "prestart", "createRuntime", "createContainer",
                                          "startContainer", "poststart", "poststop" };

static const char *const mount_options[] = {
        "async", "atime", "bind", "copy-symlink", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime",
        "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand",
        "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind",
        "rdev", "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev",
        "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow",
        "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime",
        "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime",
        "suid", "symfollow", "sync", "unbindable",
};

static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid",
                                          "time", "user", "uts" };

static const char *const seccomp_actions[] = {
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
        "SCMP_ACT_TRAP",
};

static const char *const seccomp_operators[] = {
        "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
        "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

static const char *const seccomp_archs[] = {
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32", "SCMP_ARCH_X86",
        "SCMP_ARCH_X86_64",
};

static const char *const seccomp_flags[] = {
        "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static void str_array(json_writer *w, const char *key, const char *const *v, size_t n)
{
        json_key(w, key);
        json_arr_begin(w);
        for (size_t i = 0; i < n; i++)
                json_str(w, v[i]);
        json_arr_end(w);
}
#define STR_ARRAY(w, key, v) str_array((w), (key), (v), ARRAY_SIZE(v))

static void caps_array(json_writer *w)
{
        json_key(w, "capabilities");
        json_arr_begin(w);
        int last = caps_last_cap();
        for (int cap = 0; cap <= last; cap++) {
                /* libcap names are lower case without the prefix: "CAP_" + upper case. */
                char *lc = cap_to_name((cap_value_t)cap);
                if (!lc)
                        continue;
                _cleanup_free_ char *name =
                        xasprintf("CAP_%s", strncmp(lc, "cap_", 4) == 0 ? lc + 4 : lc);
                cap_free(lc);
                for (char *p = name; *p; p++)
                        if (*p >= 'a' && *p <= 'z')
                                *p = (char)(*p - 'a' + 'A');
                json_str(w, name);
        }
        json_arr_end(w);
}

char *husk_features_json(void)
{
        json_writer *w = json_writer_new(true);
        json_obj_begin(w);
        json_kv_str(w, "ociVersionMin", "1.0.0");
        json_kv_str(w, "ociVersionMax", HUSK_OCI_VERSION);
        STR_ARRAY(w, "hooks", hook_names);
        STR_ARRAY(w, "mountOptions", mount_options);
        json_key(w, "linux");
        json_obj_begin(w);
        STR_ARRAY(w, "namespaces", namespaces);
        caps_array(w);
        json_key(w, "cgroup");
        json_obj_begin(w);
        json_kv_bool(w, "v1", true);
        json_kv_bool(w, "v2", true);
        json_kv_bool(w, "systemd", false);
        json_kv_bool(w, "systemdUser", false);
        json_kv_bool(w, "rdma", false);
        json_obj_end(w);
        json_key(w, "seccomp");
        json_obj_begin(w);
        json_kv_bool(w, "enabled", true);
        STR_ARRAY(w, "actions", seccomp_actions);
        STR_ARRAY(w, "operators", seccomp_operators);
        STR_ARRAY(w, "archs", seccomp_archs);
        STR_ARRAY(w, "knownFlags", seccomp_flags);
        STR_ARRAY(w, "supportedFlags", seccomp_flags);
        json_obj_end(w);
        json_key(w, "apparmor");
        json_obj_begin(w);
        json_kv_bool(w, "enabled", false);
        json_obj_end(w);
        json_key(w, "selinux");
        json_obj_begin(w);
        json_kv_bool(w, "enabled", false);
        json_obj_end(w);
        json_key(w, "intelRdt");
        json_obj_begin(w);
        json_kv_bool(w, "enabled", false);
        json_obj_end(w);
        json_key(w, "mountExtensions");
        json_obj_begin(w);
        json_key(w, "idmap");
        json_obj_begin(w);
        json_kv_bool(w, "enabled", true); /* mounts[].uidMappings/gidMappings on bind mounts */
        json_obj_end(w);
        json_obj_end(w);
        json_obj_end(w);
        json_key(w, "annotations");
        json_obj_begin(w);
        json_kv_str(w, "io.github.husk.version", PACKAGE_VERSION);
        json_kv_str(w, "io.github.husk.checkpoint.enabled", "false");
        json_obj_end(w);
        json_obj_end(w);
        return json_writer_finish(w);
}
