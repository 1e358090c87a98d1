/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: runs the rootfs module on a rootfs without the rest of husk (no CLI, no config
 * file). It builds the default config of tests/integration/lib.sh in memory, unshares mount, pid,
 * ipc and uts namespaces, calls rootfs_mounts -> rootfs_mask -> rootfs_pivot -> rootfs_finalize in
 * the child and execs the command. Exit status 125 with the error on stderr when a step fails.
 * usage: rootfs_harness [options] ROOTFS -- CMD [ARGS...]
 *   -b BUNDLE       bundle dir (relative bind sources)
 *   -n              no default mounts / masked / readonly paths
 *   -m D|T|S|O,O    add a mount (destination|type|source|options), empty fields allowed
 *   -M PATH         add a masked path        -R PATH   add a readonly path
 *   -d T:PATH:MAJ:MIN:MODE:UID:GID           add a linux.devices entry (MODE octal)
 *   -o              root.readonly            -p        no_pivot
 *   -P NAME         rootfsPropagation (private, rprivate, slave, rslave, shared, rshared)
 *   -C              new cgroup namespace (before the mounts)
 *   -F              force the non-openat2 resolver fallback
 *   -U              new user namespace first (identity map: mknod is refused, nodes are bound)
 *   -T              after the pivot, open a pty in the container's devpts and bind it on
 *                   /dev/console (rootfs_console) */
#include "rootfs/rootfs-internal.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>

static config_mount mounts[64];
static size_t n_mounts;
static char *masked[64], *ro_paths[64];
static size_t n_masked, n_ro;
static config_device devices[16];
static size_t n_devices;
static config_namespace cgns = { .type = NS_CGROUP };

static char **split(const char *s, char sep, size_t *n)
{
        char **v = xcalloc(64, sizeof(char *));
        *n = 0;
        if (!*s)
                return v;
        for (const char *p = s;; ) {
                const char *e = strchrnul(p, sep);
                if (*n < 63)
                        v[(*n)++] = xstrndup(p, (size_t)(e - p));
                if (!*e)
                        break;
                p = e + 1;
        }
        return v;
}

static void add_mount(const char *spec)
{
        size_t n = 0;
        char **f = split(spec, '|', &n);
        config_mount *m = &mounts[n_mounts++];
        m->destination = f[0];
        m->type = n > 1 && f[1][0] ? f[1] : NULL;
        m->source = n > 2 && f[2][0] ? f[2] : NULL;
        m->options = n > 3 ? split(f[3], ',', &m->n_options) : NULL;
}

static int write_map(const char *file, const char *map)
{
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        int r = write_all(fd, map, strlen(map));
        close(fd);
        return r;
}

/* Only a process in the parent namespace may write a map wider than one id: a helper child
 * writes ours once we have unshared. */
static int new_userns(void)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid_t self = getpid(), pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                char b, f[64];
                close(p[1]);
                if (read(p[0], &b, 1) != 1)
                        _exit(1);
                snprintf(f, sizeof(f), "/proc/%d/uid_map", (int)self);
                if (write_map(f, "0 0 4294967295") < 0)
                        _exit(1);
                snprintf(f, sizeof(f), "/proc/%d/gid_map", (int)self);
                _exit(write_map(f, "0 0 4294967295") < 0 ? 1 : 0);
        }
        close(p[0]);
        int r = unshare(CLONE_NEWUSER);
        if (write(p[1], "x", 1) != 1)
                r = -1;
        close(p[1]);
        int st;
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                r = -1;
        return r;
}

static void default_config(void)
{
        const char *def[] = {
                "/proc|proc|proc|",
                "/dev|tmpfs|tmpfs|nosuid,strictatime,mode=755,size=65536k",
                "/dev/pts|devpts|devpts|nosuid,noexec,newinstance,ptmxmode=0666,mode=0620",
                "/dev/shm|tmpfs|shm|nosuid,noexec,nodev,mode=1777,size=65536k",
                "/dev/mqueue|mqueue|mqueue|nosuid,noexec,nodev",
                "/sys|sysfs|sysfs|nosuid,noexec,nodev,ro",
                "/tmp|tmpfs|tmpfs|nosuid,nodev,mode=1777",
        };
        for (size_t i = 0; i < ARRAY_SIZE(def); i++)
                add_mount(def[i]);
        const char *mk[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                             "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                             "/proc/sched_debug", "/sys/firmware", "/proc/scsi" };
        for (size_t i = 0; i < ARRAY_SIZE(mk); i++)
                masked[n_masked++] = xstrdup(mk[i]);
        const char *ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
        for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
                ro_paths[n_ro++] = xstrdup(ro[i]);
}

static config_propagation prop_from_name(const char *s)
{
        const char *names[] = { "", "private", "rprivate", "slave", "rslave", "shared", "rshared",
                                "unbindable", "runbindable" };
        for (size_t i = 1; i < ARRAY_SIZE(names); i++)
                if (strcmp(s, names[i]) == 0)
                        return (config_propagation)i;
        fprintf(stderr, "bad propagation %s\n", s);
        exit(2);
}

static void add_device(const char *spec)
{
        size_t n = 0;
        char **f = split(spec, ':', &n);
        if (n != 7) {
                fprintf(stderr, "bad device %s\n", spec);
                exit(2);
        }
        config_device *d = &devices[n_devices++];
        d->type = f[0][0];
        d->path = f[1];
        d->major = strtoll(f[2], NULL, 10);
        d->minor = strtoll(f[3], NULL, 10);
        d->has_file_mode = true;
        d->file_mode = (uint32_t)strtoul(f[4], NULL, 8);
        d->has_uid = d->has_gid = true;
        d->uid = (uint32_t)strtoul(f[5], NULL, 10);
        d->gid = (uint32_t)strtoul(f[6], NULL, 10);
}

static int console(rootfs_ctx *c, husk_error_t *err)
{
        int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
                return util_syserr(err, errno, "open a pty");
        int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
                return util_syserr(err, errno, "open the pty slave");
        int r = rootfs_console(c, s, err);
        close(s); /* the master stays open (leaked on purpose) until exec closes it */
        return r;
}

static bool want_console;

static int child(rootfs_ctx *c, char **argv)
{
        husk_error_t err = { 0 };
        if (rootfs_mounts(c, &err) < 0 || rootfs_mask(c, &err) < 0 || rootfs_pivot(c, &err) < 0 ||
            (want_console && console(c, &err) < 0) || rootfs_finalize(c, &err) < 0) {
                fprintf(stderr, "rootfs_harness: %s\n", err.msg);
                return 125;
        }
        execvp(argv[0], argv);
        perror("exec");
        return 127;
}

int main(int argc, char **argv)
{
        husk_config cfg = { 0 };
        rootfs_ctx c = { .cfg = &cfg, .rootfs_fd = -1 };
        bool defaults = true, cgroupns = false;
        int opt;
        const char *mopts[64];
        size_t n_mopts = 0;
        bool userns = false;
        while ((opt = getopt(argc, argv, "+b:nm:M:R:d:opP:CFUT")) != -1) {
                switch (opt) {
                case 'b': c.bundle = optarg; break;
                case 'n': defaults = false; break;
                case 'm': mopts[n_mopts++] = optarg; break;
                case 'M': masked[n_masked++] = optarg; break;
                case 'R': ro_paths[n_ro++] = optarg; break;
                case 'd': add_device(optarg); break;
                case 'o': cfg.root.readonly = true; break;
                case 'p': c.no_pivot = true; break;
                case 'P': cfg.linux_.rootfs_propagation = prop_from_name(optarg); break;
                case 'C': cgroupns = true; break;
                case 'F': rootfs_force_fallback = true; break;
                case 'U': userns = true; break;
                case 'T': want_console = true; break;
                default: return 2;
                }
        }
        if (optind + 1 >= argc) {
                fprintf(stderr, "usage: rootfs_harness [options] ROOTFS -- CMD [ARGS...]\n");
                return 2;
        }
        /* keep the option order: defaults first, then -m/-M/-R in the order given */
        size_t keep_masked = n_masked, keep_ro = n_ro;
        char *um[64], *ur[64];
        memcpy(um, masked, sizeof(um));
        memcpy(ur, ro_paths, sizeof(ur));
        n_masked = n_ro = 0;
        if (defaults)
                default_config();
        for (size_t i = 0; i < keep_masked; i++)
                masked[n_masked++] = um[i];
        for (size_t i = 0; i < keep_ro; i++)
                ro_paths[n_ro++] = ur[i];
        for (size_t i = 0; i < n_mopts; i++)
                add_mount(mopts[i]);
        cfg.mounts = mounts;
        cfg.n_mounts = n_mounts;
        cfg.linux_.masked_paths = masked;
        cfg.linux_.n_masked_paths = n_masked;
        cfg.linux_.readonly_paths = ro_paths;
        cfg.linux_.n_readonly_paths = n_ro;
        cfg.linux_.devices = devices;
        cfg.linux_.n_devices = n_devices;
        if (cgroupns) {
                cfg.linux_.namespaces = &cgns;
                cfg.linux_.n_namespaces = 1;
        }
        cfg.has_linux = true;
        c.rootfs = argv[optind];
        if (strcmp(argv[optind + 1], "--") == 0)
                optind++;
        char **cmd = &argv[optind + 1];
        if (!*cmd)
                return 2;
        c.in_userns = userns;
        c.want_console = want_console;
        if (userns && new_userns() < 0) {
                perror("user namespace");
                return 125;
        }
        int fl = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (cgroupns ? CLONE_NEWCGROUP : 0);
        if (unshare(fl) < 0) {
                perror("unshare");
                return 125;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return 125;
        if (pid == 0)
                _exit(child(&c, cmd));
        int st;
        if (waitpid(pid, &st, 0) < 0)
                return 125;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
