/* SPDX-License-Identifier: Apache-2.0 */
/* openat2(2) (Linux 5.6), for the callers that resolve a path beneath a folder or in a root:
 * the kernel's struct and RESOLVE_* flags where <linux/openat2.h> is missing, and a wrapper for
 * the system call, which glibc does not have. */
#ifndef HUSK_UTIL_OPENAT2_H
#define HUSK_UTIL_OPENAT2_H

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#ifndef RESOLVE_BENEATH
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
struct open_how {
        uint64_t flags, mode, resolve;
};
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* openat2(dirfd, path, {flags, 0, resolve}): the fd, or -1 with errno (ENOSYS on older kernels,
 * EPERM where a seccomp filter refuses it, EXDEV when the path would leave the folder). */
static inline int util_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
        struct open_how how = { .flags = flags, .resolve = resolve };
        return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

#endif
