/* SPDX-License-Identifier: Apache-2.0 */
/* Name <-> number tables: rlimits, namespaces, capabilities, propagation, seccomp names. */
#include "config/internal.h"

#include <sched.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
        const char *name;
        int resource;
} rlimits[] = {
        { "RLIMIT_CPU", RLIMIT_CPU },           { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_DATA", RLIMIT_DATA },         { "RLIMIT_STACK", RLIMIT_STACK },
        { "RLIMIT_CORE", RLIMIT_CORE },         { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_NPROC", RLIMIT_NPROC },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },   { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },       { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },     { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int config_name_index(const char *const *names, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], name) == 0)
                        return (int)i;
        return -1;
}

int config_rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
                if (strcmp(rlimits[i].name, name) == 0)
                        return rlimits[i].resource;
        return -1;
}

const char *config_rlimit_name(int resource)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
                if (rlimits[i].resource == resource)
                        return rlimits[i].name;
        return NULL;
}

int config_cap_from_name(const char *name)
{
        /* libcap also accepts lower case and bare numbers; the OCI spec names are "CAP_" + upper
         * case, and anything else in a config is a typo worth reporting. */
        if (strncmp(name, "CAP_", 4) != 0 || name[4] == '\0')
                return -1;
        for (const char *p = name + 4; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return -1;
        cap_value_t v = 0;
        if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
                return -1;
        return (int)v;
}

static const struct {
        const char *name;
        int flag;
} namespaces[NS_TYPE_COUNT] = {
        [NS_PID] = { "pid", CLONE_NEWPID },          [NS_NETWORK] = { "network", CLONE_NEWNET },
        [NS_MOUNT] = { "mount", CLONE_NEWNS },       [NS_IPC] = { "ipc", CLONE_NEWIPC },
        [NS_UTS] = { "uts", CLONE_NEWUTS },          [NS_USER] = { "user", CLONE_NEWUSER },
        [NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP }, [NS_TIME] = { "time", CLONE_NEWTIME },
};

int config_ns_from_name(const char *name, int *ret_clone_flag)
{
        for (int i = 0; i < NS_TYPE_COUNT; i++)
                if (strcmp(namespaces[i].name, name) == 0) {
                        if (ret_clone_flag)
                                *ret_clone_flag = namespaces[i].flag;
                        return i;
                }
        return -1;
}

const char *config_ns_name(config_ns_type t)
{
        return (unsigned)t < NS_TYPE_COUNT ? namespaces[t].name : "?";
}

int config_propagation_from_name(const char *name)
{
        static const char *const names[] = {
                [PROPAGATION_PRIVATE] = "private",       [PROPAGATION_RPRIVATE] = "rprivate",
                [PROPAGATION_SLAVE] = "slave",           [PROPAGATION_RSLAVE] = "rslave",
                [PROPAGATION_SHARED] = "shared",         [PROPAGATION_RSHARED] = "rshared",
                [PROPAGATION_UNBINDABLE] = "unbindable", [PROPAGATION_RUNBINDABLE] = "runbindable",
        };
        return config_name_index(names, ARRAY_SIZE(names), name);
}

int config_seccomp_action_from_name(const char *name)
{
        static const char *const names[] = {
                [HUSK_SCMP_KILL] = "SCMP_ACT_KILL",
                [HUSK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
                [HUSK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
                [HUSK_SCMP_TRAP] = "SCMP_ACT_TRAP",
                [HUSK_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
                [HUSK_SCMP_TRACE] = "SCMP_ACT_TRACE",
                [HUSK_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
                [HUSK_SCMP_LOG] = "SCMP_ACT_LOG",
                [HUSK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
        };
        return config_name_index(names, ARRAY_SIZE(names), name);
}

int config_seccomp_op_from_name(const char *name)
{
        static const char *const names[] = {
                [HUSK_SCMP_CMP_NE] = "SCMP_CMP_NE",
                [HUSK_SCMP_CMP_LT] = "SCMP_CMP_LT",
                [HUSK_SCMP_CMP_LE] = "SCMP_CMP_LE",
                [HUSK_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
                [HUSK_SCMP_CMP_GE] = "SCMP_CMP_GE",
                [HUSK_SCMP_CMP_GT] = "SCMP_CMP_GT",
                [HUSK_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
        };
        return config_name_index(names, ARRAY_SIZE(names), name);
}

bool config_seccomp_flag_known(const char *name)
{
        static const char *const names[] = {
                "SECCOMP_FILTER_FLAG_TSYNC",
                "SECCOMP_FILTER_FLAG_LOG",
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        };
        return config_name_index(names, ARRAY_SIZE(names), name) >= 0;
}
