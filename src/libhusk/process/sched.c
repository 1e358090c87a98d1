/* SPDX-License-Identifier: Apache-2.0 */
/* process.scheduler and process.ioPriority (runtime-spec 1.2), applied on the container side while
 * the process still has the setup's privileges (SCHED_FIFO needs CAP_SYS_NICE, the RT I/O class
 * CAP_SYS_ADMIN), before the seccomp filter and the user switch. Shared by create and exec. */
#include "process/process.h"
#include "util/util.h"

#include <sched.h>
#include <string.h>
#include <sys/syscall.h>

/* The kernel's struct sched_attr (sched_setattr(2)), spelled out: glibc 2.36 has no wrapper. */
struct husk_sched_attr {
        uint32_t size;
        uint32_t sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
};

#define HUSK_IOPRIO_WHO_PROCESS 1
#define HUSK_IOPRIO_CLASS_SHIFT 13

int process_apply_sched(const config_process *p, husk_error_t *err)
{
        if (p->has_scheduler) {
                const config_scheduler *s = &p->scheduler;
                struct husk_sched_attr a = {
                        .size = sizeof(a),
                        .sched_policy = s->policy,
                        .sched_flags = s->flags,
                        .sched_nice = s->nice,
                        .sched_priority = s->priority,
                        .sched_runtime = s->runtime,
                        .sched_deadline = s->deadline,
                        .sched_period = s->period,
                };
                if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
                        return util_syserr(err, errno,
                                           "process.scheduler: sched_setattr (policy %u, "
                                           "priority %u, nice %d)",
                                           s->policy, s->priority, (int)s->nice);
        }
        if (p->has_io_priority) {
                int v = (p->io_priority.klass << HUSK_IOPRIO_CLASS_SHIFT) | p->io_priority.priority;
                if (syscall(SYS_ioprio_set, HUSK_IOPRIO_WHO_PROCESS, 0, v) < 0)
                        return util_syserr(err, errno,
                                           "process.ioPriority: ioprio_set (class %d, priority %d)",
                                           p->io_priority.klass, p->io_priority.priority);
        }
        return 0;
}

int process_set_affinity(const char *list, husk_error_t *err)
{
        cpu_set_t cs;
        CPU_ZERO(&cs);
        if (list) {
                uint64_t set[CONFIG_CPUS_MAX / 64];
                if (config_parse_cpu_list(list, set) < 0)
                        return husk_error_set(err, EINVAL, "execCPUAffinity: invalid CPU list \"%s\"",
                                              list);
                for (int i = 0; i < CONFIG_CPUS_MAX && i < CPU_SETSIZE; i++)
                        if (set[i / 64] & (UINT64_C(1) << (i % 64)))
                                CPU_SET(i, &cs);
        } else {
                /* every CPU: the kernel keeps the cgroup's cpuset */
                for (int i = 0; i < CPU_SETSIZE; i++)
                        CPU_SET(i, &cs);
        }
        if (sched_setaffinity(0, sizeof(cs), &cs) < 0)
                return util_syserr(err, errno, "execCPUAffinity: sched_setaffinity %s",
                                   list ? list : "(all CPUs)");
        return 0;
}
