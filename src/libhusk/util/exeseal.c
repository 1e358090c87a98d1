/* SPDX-License-Identifier: Apache-2.0 */
/* Host side, before any container exists: re-execute husk from an image of itself that no
 * container can write (CVE-2019-5736).
 *
 * The container's init and exec's process are clones of the husk process, so until they call
 * execve their /proc/self/exe is husk's own binary. PR_SET_DUMPABLE 0 keeps other processes away
 * from /proc/PID/exe, but not the process itself: when the init execs an image path that resolves
 * to /proc/self/exe (a symlink, a #! line, or a fake ELF interpreter in the image that the kernel
 * loads for husk's own PT_INTERP), the kernel starts the host's husk binary inside the container,
 * with dumpable reset to 1. That program can keep an O_PATH handle to the binary and reopen it for
 * writing once no husk runs any more (ETXTBSY protects only while one does).
 *
 * So the commands that start container code first turn their own exe into one that cannot be
 * written, and re-execute from it with the same argv and environment:
 *   1. overlay: a private, detached, read-only overlayfs whose top layer is the folder of the
 *      binary (no copy; opening the file for writing gives EROFS: a lower-only overlay has no
 *      upper layer to copy up to). Its second lower layer only has to exist and not overlap: /dev.
 *   2. memfd: a copy in a memfd with every seal set (write, grow, shrink, seal), when overlayfs or
 *      the new mount API is missing (older kernels, husk on an overlay root, no CAP_SYS_ADMIN).
 * Every process the re-executed husk forks or clones (init, exec'd processes, run -d monitors,
 * husk-fn's zygote and workers) inherits the sealed exe. The switch happens in place where the
 * kernel allows it (adopt_exe below), else by a second execve from the sealed file.
 * HUSK_EXE_SEAL=overlay|memfd forces one method and HUSK_EXE_SEAL_REEXEC=1 the second execve (tests,
 * benchmarks); there is no way to turn the protection off. */
#include "util/util.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING 1
#endif
#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

#define SEALS_ALL (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* True when fd (opened on /proc/self/exe) is one of the two sealed forms. */
static bool exe_is_sealed(int fd)
{
        int seals = fcntl(fd, F_GET_SEALS);
        if (seals >= 0 && (seals & SEALS_ALL) == SEALS_ALL)
                return true;
        struct statfs sf;
        return fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == OVERLAYFS_SUPER_MAGIC &&
               (sf.f_flags & ST_RDONLY);
}

/* Escape ':' and '\' for an overlayfs lowerdir list. */
static char *lower_escape(const char *s)
{
        char *out = xmalloc(2 * strlen(s) + 1), *o = out;
        for (; *s; s++) {
                if (*s == ':' || *s == '\\')
                        *o++ = '\\';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

/* 1. A read-only, lower-only overlayfs over the binary's folder; returns an fd of the binary. */
static int seal_overlay(int exe_fd, husk_error_t *err)
{
        char path[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
        if (n <= 0)
                return util_syserr(err, n < 0 ? errno : ENOENT, "readlink /proc/self/exe");
        path[n] = '\0';
        char *slash = strrchr(path, '/');
        if (path[0] != '/' || !slash || slash[1] == '\0' || strstr(path, " (deleted)"))
                return husk_error_set(err, ENOENT, "the binary %s has no folder to stack on", path);
        *slash = '\0';
        const char *name = slash + 1;
        if (strcmp(path, "/dev") == 0 || strncmp(path, "/dev/", 5) == 0)
                return husk_error_set(err, EINVAL, "the binary lives under /dev");

        _cleanup_close_ int ctx = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (ctx < 0)
                return util_syserr(err, errno, "fsopen overlay");
        _cleanup_free_ char *dir = lower_escape(path[0] ? path : "/");
        _cleanup_free_ char *lower = xasprintf("%s:/dev", dir);
        if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0)
                return util_syserr(err, errno, "overlay lowerdir=%s", lower);
        /* xino only adds dmesg noise when the layers are on different file systems. */
        (void)syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "xino", "off", 0);
        if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return util_syserr(err, errno, "create the overlay over %s", path);
        _cleanup_close_ int mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC,
                                               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV |
                                                       MOUNT_ATTR_NOSUID);
        if (mnt < 0)
                return util_syserr(err, errno, "fsmount the overlay over %s", path);
        int fd = openat(mnt, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open %s in the overlay", name);
        /* The same file? overlayfs reports its own st_dev, but size and mtime are the lower's. */
        struct stat a, b;
        if (fstat(fd, &a) < 0 || fstat(exe_fd, &b) < 0 || a.st_size != b.st_size ||
            a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec ||
            !exe_is_sealed(fd)) {
                close(fd);
                return husk_error_set(err, ESTALE, "%s/%s changed while it was sealed", path, name);
        }
        return fd;
}

/* 2. A sealed memfd copy of the binary. */
static int seal_memfd(int exe_fd, husk_error_t *err)
{
        /* MFD_EXEC: vm.memfd_noexec may make memfds non-executable by default (Linux 6.3+). */
        _cleanup_close_ int fd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (fd < 0 && errno == EINVAL)
                fd = memfd_create("husk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return util_syserr(err, errno, "memfd_create");
        struct stat st;
        if (fstat(exe_fd, &st) < 0)
                return util_syserr(err, errno, "stat /proc/self/exe");
        off_t off = 0;
        while (off < st.st_size) {
                ssize_t n = sendfile(fd, exe_fd, &off, (size_t)(st.st_size - off));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return util_syserr(err, n < 0 ? errno : EIO, "copy the binary into a memfd");
        }
        if (fcntl(fd, F_ADD_SEALS, SEALS_ALL | F_SEAL_FUTURE_WRITE) < 0 &&
            fcntl(fd, F_ADD_SEALS, SEALS_ALL) < 0)
                return util_syserr(err, errno, "seal the memfd copy");
        return TAKE_FD(fd);
}


/* ---- switching the exe in place, without a second execve ----
 * A re-exec costs a whole second process start (kernel exec, dynamic loader, relocations: ~4 ms of
 * CPU here). Instead, when the kernel allows it (PR_SET_MM_EXE_FILE needs CAP_SYS_RESOURCE, and no
 * mapping of the old file may remain), every mapping of the binary is replaced by the same bytes
 * mapped from the sealed file, then the mm's exe file is switched to it. Mappings that the loader
 * never wrote (headers, text, read-only data) are mapped again from the sealed file at the same
 * address (the overlay shares the page cache with the real file, so the very same pages come
 * back); written ones (writable segments and RELRO) are copied into a private mapping of the
 * sealed file that then replaces the old one in one mremap. Nothing runs between the copy and the
 * mremap that could write husk's own data (no allocation, no other thread). */

struct exe_ranges {
        uintptr_t lo[8], hi[8]; /* the written ranges: PT_LOAD with PF_W, PT_GNU_RELRO */
        size_t n;
};

static int main_program_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
        (void)size;
        struct exe_ranges *r = data;
        uintptr_t page = (uintptr_t)getpagesize();
        for (int i = 0; i < info->dlpi_phnum && r->n < ARRAY_SIZE(r->lo); i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                if (!((ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) || ph->p_type == PT_GNU_RELRO))
                        continue;
                uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
                r->lo[r->n] = lo & ~(page - 1);
                r->hi[r->n] = (hi + page - 1) & ~(page - 1);
                r->n++;
        }
        return 1; /* the first object is the main program */
}

static bool written(const struct exe_ranges *r, uintptr_t lo, uintptr_t hi)
{
        for (size_t i = 0; i < r->n; i++)
                if (lo < r->hi[i] && r->lo[i] < hi)
                        return true;
        return false;
}

struct exe_map {
        uintptr_t lo, hi;
        off_t off;
        int prot;
};

/* The mappings of the file (dev, ino) in /proc/self/maps; at most max. */
static int exe_mappings(dev_t dev, ino_t ino, struct exe_map *maps, size_t max, size_t *ret_n,
                        husk_error_t *err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return util_syserr(err, errno, "open /proc/self/maps");
        char line[PATH_MAX + 128];
        size_t n = 0;
        while (fgets(line, sizeof(line), f)) {
                unsigned long lo, hi, off, maj, min, in;
                char perm[5];
                if (sscanf(line, "%lx-%lx %4s %lx %lx:%lx %lu", &lo, &hi, perm, &off, &maj, &min,
                           &in) != 7)
                        continue;
                if (in != ino || makedev(maj, min) != dev)
                        continue;
                if (n == max || perm[3] != 'p')
                        return husk_error_set(err, E2BIG, "unexpected mappings of the binary");
                maps[n++] = (struct exe_map){ lo, hi, (off_t)off,
                                              (perm[0] == 'r' ? PROT_READ : 0) |
                                                      (perm[1] == 'w' ? PROT_WRITE : 0) |
                                                      (perm[2] == 'x' ? PROT_EXEC : 0) };
        }
        *ret_n = n;
        return 0;
}


/* mm->exe_file := fd. PR_SET_MM_EXE_FILE needs CAP_SYS_RESOURCE; PR_SET_MM_MAP (the same switch,
 * with the mm's other fields given back unchanged) needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE.
 * Hosts and sandboxes drop either, so try both. */
static int set_exe_file(int fd, husk_error_t *err)
{
        if (prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, (unsigned long)fd, 0, 0) == 0)
                return 0;
        int e = errno;
        char buf[2048];
        _cleanup_close_ int sfd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        ssize_t n = sfd < 0 ? -1 : read(sfd, buf, sizeof(buf) - 1);
        char *p = n > 0 ? (buf[n] = '\0', strrchr(buf, ')')) : NULL;
        unsigned long long v[64];
        size_t k = 0;
        for (char *tok = p ? strtok(p + 1, " ") : NULL; tok && k < ARRAY_SIZE(v); tok = strtok(NULL, " "))
                v[k++] = strtoull(tok, NULL, 10);
        if (k < 49) /* field N of proc(5) is v[N - 3] */
                return util_syserr(err, e, "prctl PR_SET_MM_EXE_FILE");
        struct prctl_mm_map m = {
                .start_code = v[23], .end_code = v[24], .start_stack = v[25],
                .start_data = v[42], .end_data = v[43], .start_brk = v[44],
                .brk = (unsigned long)syscall(SYS_brk, 0),
                .arg_start = v[45], .arg_end = v[46], .env_start = v[47], .env_end = v[48],
                .auxv = NULL, .auxv_size = 0, .exe_fd = (unsigned)fd,
        };
        if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof(m), 0) < 0)
                return util_syserr(err, errno, "prctl PR_SET_MM_MAP (PR_SET_MM_EXE_FILE: %s)",
                                   strerror(e));
        return 0;
}

/* Replace every mapping of the running binary (exe_fd) by the sealed file fd, then make fd the
 * process's exe. On failure the process may be left with some mappings replaced: they hold the
 * same bytes, and the caller falls back to a re-exec. */
static int adopt_exe(int exe_fd, int fd, husk_error_t *err)
{
        struct stat st;
        if (fstat(exe_fd, &st) < 0)
                return util_syserr(err, errno, "stat /proc/self/exe");
        struct exe_ranges r = { .n = 0 };
        dl_iterate_phdr(main_program_ranges, &r);
        struct exe_map maps[32];
        size_t n = 0;
        if (exe_mappings(st.st_dev, st.st_ino, maps, ARRAY_SIZE(maps), &n, err) < 0)
                return -err->code;
        if (n == 0)
                return husk_error_set(err, ENOENT, "no mapping of the binary in /proc/self/maps");
        for (size_t i = 0; i < n; i++) {
                void *at = (void *)maps[i].lo;
                size_t len = maps[i].hi - maps[i].lo;
                if (!(maps[i].prot & PROT_READ) || !written(&r, maps[i].lo, maps[i].hi)) {
                        if (mmap(at, len, maps[i].prot, MAP_PRIVATE | MAP_FIXED, fd, maps[i].off) ==
                            MAP_FAILED)
                                return util_syserr(err, errno, "map the sealed binary");
                        continue;
                }
                void *tmp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, maps[i].off);
                if (tmp == MAP_FAILED)
                        return util_syserr(err, errno, "map the sealed binary");
                memcpy(tmp, at, len);
                if (mprotect(tmp, len, maps[i].prot) < 0 ||
                    mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED) {
                        int e = errno;
                        munmap(tmp, len);
                        return util_syserr(err, e, "move the sealed binary's data in place");
                }
        }
        return set_exe_file(fd, err);
}

int husk_exe_seal(char **argv, husk_error_t *err)
{
        _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (exe < 0)
                return util_syserr(err, errno, "open /proc/self/exe");
        if (exe_is_sealed(exe))
                return 0;
        const char *mode = getenv("HUSK_EXE_SEAL");
        if (mode && !*mode)
                mode = NULL;
        if (mode && strcmp(mode, "overlay") != 0 && strcmp(mode, "memfd") != 0)
                return husk_error_set(err, EINVAL, "HUSK_EXE_SEAL=%s: use overlay or memfd", mode);

        husk_error_t e1 = { 0 }, e2 = { 0 };
        _cleanup_close_ int fd = -1;
        if (!mode || strcmp(mode, "overlay") == 0)
                fd = seal_overlay(exe, &e1);
        if (fd < 0 && (!mode || strcmp(mode, "memfd") == 0))
                fd = seal_memfd(exe, &e2);
        if (fd < 0)
                return husk_error_set(err, e2.code ? e2.code : e1.code,
                                      "cannot run husk from a sealed copy of itself (CVE-2019-5736 "
                                      "defence)%s%s%s%s",
                                      e1.code ? "; overlay: " : "", e1.code ? e1.msg : "",
                                      e2.code ? "; memfd: " : "", e2.code ? e2.msg : "");
        /* In place when the kernel lets us, else a second execve from the sealed file. */
        husk_error_t e3 = { 0 };
        if (!getenv("HUSK_EXE_SEAL_REEXEC") && adopt_exe(exe, fd, &e3) == 0) {
                _cleanup_close_ int check = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
                if (check >= 0 && exe_is_sealed(check))
                        return 0;
        }
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        return util_syserr(err, errno, "re-execute husk from its sealed copy");
}
