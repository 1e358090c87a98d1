/* SPDX-License-Identifier: Apache-2.0 */
/* Image run, host side: from an image (stored, or an archive loaded on the way) to a bundle
 * STORE/containers/ID = { config.json, upper/, work/, merged/ } that husk_create/husk_run start
 * like any OCI bundle. husk_delete calls husk_image_container_remove for what this made. */
#include "image/image.h"
#include "image/run.h"
#include "net/net.h"
#include "seccomp/seccomp.h"
#include "state/state.h"
#include "util/json.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define MARKER ".husk-image-container"
#define OWNER "owner"
#define PASSWD_MAX (4u << 20)

/* ---- loading a path argument, with a cache of (file identity -> image id) ---- */

bool husk_image_ref_is_path(const char *ref)
{
        struct stat st;
        if (ref[0] == '/' || strncmp(ref, "./", 2) == 0 || strncmp(ref, "../", 3) == 0)
                return true;
        /* localhost/tools:latest is a name unless such a file exists; a bare name is an image
         * name unless it is a file here (busybox-oci.tar). */
        if (stat(ref, &st) < 0)
                return false;
        return strchr(ref, '/') ? true : S_ISREG(st.st_mode);
}

/* The key of a tarball in STORE/tarballs: its identity and change time, as the file name
 * itself (no hash: hashing would cost OpenSSL's start-up on every run). Any write to the file
 * changes ctime, so a hit means the same bytes that were loaded (and verified) before. */
static char *tarball_key(const struct stat *st)
{
        return xasprintf("tarballs/%lx-%lx-%llx-%llx.%lx-%llx.%lx", (unsigned long)st->st_dev,
                         (unsigned long)st->st_ino, (unsigned long long)st->st_size,
                         (unsigned long long)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec,
                         (unsigned long long)st->st_ctim.tv_sec, (unsigned long)st->st_ctim.tv_nsec);
}

static int load_ref(const husk_image_opts_t *io, int store_fd, const char *path, bool force_load,
                    char **ret_id, bool *ret_loaded, husk_error_t *err)
{
        struct stat st;
        _cleanup_free_ char *cached = NULL, *name = NULL;
        if (stat(path, &st) < 0)
                return util_syserr(err, errno, "image %s", path);
        bool cacheable = S_ISREG(st.st_mode);
        if (cacheable && !force_load) {
                name = tarball_key(&st);
                if (read_file_at(store_fd, name, 128, &cached, NULL) == 0) {
                        /* The caller resolves it; should the image be gone, it calls again
                         * with force_load. */
                        cached[strcspn(cached, "\n")] = '\0';
                        *ret_id = TAKE_PTR(cached);
                        *ret_loaded = false;
                        return 0;
                }
        }
        if (cacheable && !name)
                name = tarball_key(&st);
        husk_image_loaded_t *v = NULL;
        size_t n = 0;
        int r = husk_image_load(io, path, &v, &n, err);
        if (r < 0)
                return r;
        if (n == 0) {
                husk_image_loaded_free(v, n);
                return husk_error_set(err, ENOENT, "%s holds no image", path);
        }
        for (size_t i = 1; i < n; i++) {
                if (strcmp(v[i].id, v[0].id) == 0)
                        continue; /* one image under several names */
                /* Running "the first" of several would be a guess: the load itself is kept
                 * (complete and verified), so the user can pick one by name. */
                const char *a = v[0].names && v[0].names[0] ? v[0].names[0] : v[0].id;
                const char *b = v[i].names && v[i].names[0] ? v[i].names[0] : v[i].id;
                r = husk_error_set(err, EINVAL, "%s holds %zu images (%s, %s%s): they are now "
                                   "loaded; run one of them by name or id", path, n, a, b,
                                   n > 2 ? ", ..." : "");
                husk_image_loaded_free(v, n);
                return r;
        }
        *ret_id = xstrdup(v[0].id);
        *ret_loaded = true;
        husk_image_loaded_free(v, n);
        if (cacheable && (mkdirat(store_fd, "tarballs", 0700) == 0 || errno == EEXIST)) {
                _cleanup_free_ char *line = xasprintf("%s\n", *ret_id);
                /* Only a shortcut: without it the next run loads (and finds the layers) again. */
                (void)write_file_atomic_at(store_fd, name, line, strlen(line), 0600);
        }
        return 0;
}

/* ---- reading and creating inside the container's root, by fd ---- */

static int open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* Reads a small file of the image (etc/passwd) through the root fd: a symlink in the image
 * cannot make us read a host file. *ret is NULL when the file is missing. */
static int read_in_root(int rootfd, const char *path, char **ret, husk_error_t *err)
{
        _cleanup_close_ int fd = open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        if (fd == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (fd < 0)
                return util_syserr(err, -fd, "open %s in the image", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return husk_error_set(err, EINVAL, "%s in the image is not a regular file", path);
        char p[64]; /* the fd's proc link: the file already opened, no path walk again */
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        int r = read_file_at(AT_FDCWD, p, PASSWD_MAX, ret, NULL);
        return r < 0 ? util_syserr(err, -r, "read %s in the image", path) : 0;
}

/* mkdir -p of an absolute path inside the root; every step resolved in the root. */
static int mkdir_in_root(int rootfd, const char *path, husk_error_t *err)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                _cleanup_close_ int fd = open_in_root(rootfd, p, O_PATH | O_DIRECTORY);
                if (fd == -ENOENT) {
                        char *slash = strrchr(p, '/');
                        *slash = '\0';
                        _cleanup_close_ int parent = open_in_root(rootfd, p[0] ? p : "/",
                                                                  O_PATH | O_DIRECTORY);
                        *slash = '/';
                        if (parent < 0 || (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST))
                                return util_syserr(err, parent < 0 ? -parent : errno,
                                                   "create the working directory %s", p);
                } else if (fd < 0) {
                        return util_syserr(err, -fd, "working directory %s", p);
                }
                *s = c;
                if (!c)
                        return 0;
        }
}

/* ---- the user ---- */

typedef struct run_user {
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
} run_user_t;

static int resolve_user(int rootfd, const char *spec, run_user_t *u, husk_error_t *err)
{
        *u = (run_user_t){ 0 };
        if (!spec || !spec[0])
                spec = "0";
        _cleanup_free_ char *user = NULL, *group = NULL, *passwd = NULL, *groups = NULL,
                            *name = NULL;
        if (run_split_user(spec, &user, &group) < 0)
                return husk_error_set(err, EINVAL, "invalid user \"%s\": expected USER[:GROUP]", spec);
        int r = read_in_root(rootfd, "/etc/passwd", &passwd, err);
        if (r < 0 || (r = read_in_root(rootfd, "/etc/group", &groups, err)) < 0)
                return r;
        bool found = false;
        r = run_passwd_lookup(passwd, user, &u->uid, &u->gid, &name, &found);
        if (r == -ENOENT)
                return husk_error_set(err, ENOENT, "user \"%s\" is not in the image's /etc/passwd",
                                      user);
        if (r < 0)
                return husk_error_set(err, EINVAL, "invalid user \"%s\"", user);
        if (group) {
                r = run_group_lookup(groups, group, &u->gid);
                if (r == -ENOENT)
                        return husk_error_set(err, ENOENT,
                                              "group \"%s\" is not in the image's /etc/group", group);
                if (r < 0)
                        return husk_error_set(err, EINVAL, "invalid group \"%s\"", group);
        }
        if (name)
                u->n_groups = run_group_members(groups, name, u->gid, &u->groups);
        return 0;
}

/* ---- config.json ---- */

static void kv_strv(json_writer *w, const char *key, char *const *v)
{
        json_key(w, key);
        json_arr_begin(w);
        for (size_t i = 0; v && v[i]; i++)
                json_str(w, v[i]);
        json_arr_end(w);
}

static void mount_entry(json_writer *w, const char *dest, const char *type, const char *src,
                        char *const *opts)
{
        json_obj_begin(w);
        json_kv_str(w, "destination", dest);
        json_kv_str(w, "type", type);
        json_kv_str(w, "source", src);
        if (opts)
                kv_strv(w, "options", opts);
        json_obj_end(w);
}

static void std_mounts(json_writer *w)
{
        char *proc[] = { "nosuid", "noexec", "nodev", NULL };
        char *dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
        char *pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
        char *shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
        char *mq[] = { "nosuid", "noexec", "nodev", NULL };
        char *sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
        char *cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
        mount_entry(w, "/proc", "proc", "proc", proc);
        mount_entry(w, "/dev", "tmpfs", "tmpfs", dev);
        mount_entry(w, "/dev/pts", "devpts", "devpts", pts);
        mount_entry(w, "/dev/shm", "tmpfs", "shm", shm);
        mount_entry(w, "/dev/mqueue", "mqueue", "mqueue", mq);
        mount_entry(w, "/sys", "sysfs", "sysfs", sys);
        mount_entry(w, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
}

static int user_mounts(json_writer *w, const husk_image_run_opts_t *o, husk_error_t *err)
{
        for (size_t i = 0; o->volumes && o->volumes[i]; i++) {
                run_volume_t v = { 0 };
                const char *why = NULL;
                if (run_parse_volume(o->volumes[i], &v, &why) < 0)
                        return husk_error_set(err, EINVAL, "invalid volume \"%s\": %s", o->volumes[i], why);
                _cleanup_free_ char *host = realpath(v.host, NULL);
                if (!host) {
                        int e = errno;
                        run_volume_done(&v);
                        return util_syserr(err, e, "volume \"%s\": host path", o->volumes[i]);
                }
                char *opts[] = { "rbind", v.ro ? "ro" : "rw", "nosuid", "nodev", NULL };
                mount_entry(w, v.ctr, "bind", host, opts);
                run_volume_done(&v);
        }
        for (size_t i = 0; o->tmpfs && o->tmpfs[i]; i++) {
                _cleanup_free_ char *dest = NULL;
                _cleanup_strv_ char **opts = NULL;
                const char *why = NULL;
                if (run_parse_tmpfs(o->tmpfs[i], &dest, &opts, &why) < 0)
                        return husk_error_set(err, EINVAL, "invalid --tmpfs \"%s\": %s", o->tmpfs[i], why);
                mount_entry(w, dest, "tmpfs", "tmpfs", opts);
        }
        return 0;
}

/* The user mounts something of their own at dest (-v HOST:/etc/hosts wins over ours). */
static bool user_mounts_at(const husk_image_run_opts_t *o, const char *dest)
{
        bool found = false;
        for (size_t i = 0; o->volumes && o->volumes[i] && !found; i++) {
                run_volume_t v = { 0 };
                const char *why = NULL;
                if (run_parse_volume(o->volumes[i], &v, &why) < 0)
                        continue; /* reported by user_mounts */
                found = strcmp(v.ctr, dest) == 0;
                run_volume_done(&v);
        }
        return found;
}

/* /etc/hosts, /etc/hostname, /etc/resolv.conf that the network module generated. */
static void net_mounts(json_writer *w, const husk_image_run_opts_t *o, const net_setup_t *net)
{
        char *opts[] = { "rbind", "rw", "nosuid", "nodev", "noexec", NULL };
        for (size_t i = 0; net && i < net->n_mounts; i++)
                if (!user_mounts_at(o, net->mounts[i].dest))
                        mount_entry(w, net->mounts[i].dest, "bind", net->mounts[i].source, opts);
}

static int resources(json_writer *w, const husk_image_run_opts_t *o, husk_error_t *err)
{
        json_key(w, "resources");
        json_obj_begin(w);
        json_key(w, "devices");
        json_arr_begin(w);
        json_obj_begin(w);
        json_kv_bool(w, "allow", false);
        json_kv_str(w, "access", "rwm");
        json_obj_end(w);
        json_arr_end(w);
        if (o->memory) {
                int64_t b = 0;
                if (run_parse_size(o->memory, &b) < 0 || b < 4096 * 1024)
                        return husk_error_set(err, EINVAL, "invalid --memory \"%s\": a size of at "
                                              "least 4m (b, k, m, g suffixes)", o->memory);
                json_key(w, "memory");
                json_obj_begin(w);
                json_kv_int(w, "limit", b);
                json_obj_end(w);
        }
        if (o->cpus) {
                int64_t quota = 0;
                uint64_t period = 0;
                if (run_parse_cpus(o->cpus, &quota, &period) < 0)
                        return husk_error_set(err, EINVAL, "invalid --cpus \"%s\": a positive "
                                              "number with at most 3 decimals", o->cpus);
                json_key(w, "cpu");
                json_obj_begin(w);
                json_kv_int(w, "quota", quota);
                json_kv_uint(w, "period", period);
                json_obj_end(w);
        }
        if (o->pids_limit) {
                int64_t p = 0;
                if (parse_int64(o->pids_limit, &p) < 0 || p < -1)
                        return husk_error_set(err, EINVAL, "invalid --pids-limit \"%s\"", o->pids_limit);
                json_key(w, "pids");
                json_obj_begin(w);
                json_kv_int(w, "limit", p <= 0 ? -1 : p);
                json_obj_end(w);
        }
        json_obj_end(w);
        return 0;
}

static void process_json(json_writer *w, const husk_image_run_opts_t *o, char *const *args,
                         char *const *env, const char *cwd, const run_user_t *u, char *const *caps)
{
        json_key(w, "process");
        json_obj_begin(w);
        json_kv_bool(w, "terminal", o->terminal);
        json_key(w, "user");
        json_obj_begin(w);
        json_kv_uint(w, "uid", u->uid);
        json_kv_uint(w, "gid", u->gid);
        if (u->n_groups) {
                json_key(w, "additionalGids");
                json_arr_begin(w);
                for (size_t i = 0; i < u->n_groups; i++)
                        json_uint(w, u->groups[i]);
                json_arr_end(w);
        }
        json_obj_end(w);
        kv_strv(w, "args", args);
        kv_strv(w, "env", env);
        json_kv_str(w, "cwd", cwd);
        json_key(w, "capabilities");
        json_obj_begin(w);
        kv_strv(w, "bounding", caps);
        /* A non-root user starts with no effective capabilities; it keeps the bounding set for
         * file capabilities (as with a login), never inheritable ones (CVE-2022-29162). */
        char *none[] = { NULL };
        kv_strv(w, "effective", u->uid == 0 ? caps : none);
        kv_strv(w, "permitted", u->uid == 0 ? caps : none);
        json_obj_end(w);
        json_key(w, "rlimits");
        json_arr_begin(w);
        json_obj_begin(w);
        json_kv_str(w, "type", "RLIMIT_NOFILE");
        /* As many as the caller may have: raising the hard limit needs CAP_SYS_RESOURCE. */
        struct rlimit rl = { 1024, 1024 };
        (void)getrlimit(RLIMIT_NOFILE, &rl); /* keeps 1024 on failure */
        uint64_t lim = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
        json_kv_uint(w, "hard", lim);
        json_kv_uint(w, "soft", lim);
        json_obj_end(w);
        json_arr_end(w);
        json_kv_bool(w, "noNewPrivileges", true);
        json_obj_end(w);
}

static void linux_json(json_writer *w, const net_setup_t *net)
{
        static const char *const ns[] = { "pid", "ipc", "uts", "mount", "cgroup" };
        json_key(w, "namespaces");
        json_arr_begin(w);
        for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
                json_obj_begin(w);
                json_kv_str(w, "type", ns[i]);
                json_obj_end(w);
        }
        /* The namespace the network module made (none and CNI networks); host: no entry. */
        if (net->netns) {
                json_obj_begin(w);
                json_kv_str(w, "type", "network");
                json_kv_str(w, "path", net->netns);
                json_obj_end(w);
        }
        json_arr_end(w);
        char *masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                           "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                           "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                           "/sys/devices/virtual/powercap", NULL };
        char *ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
        kv_strv(w, "maskedPaths", masked);
        kv_strv(w, "readonlyPaths", ro);
}

typedef struct build {
        const husk_image_run_opts_t *o;
        const char *id, *bundle, *image_id;
        const husk_image_config_t *img;
        char **args, **env, **caps;
        const char *cwd;
        run_user_t user;
        net_setup_t net;
} build_t;

static int config_text(const build_t *b, char **ret, husk_error_t *err)
{
        const husk_image_run_opts_t *o = b->o;
        json_writer *w = json_writer_new(true);
        json_obj_begin(w);
        json_kv_str(w, "ociVersion", HUSK_OCI_VERSION);
        process_json(w, o, b->args, b->env, b->cwd, &b->user, b->caps);
        json_key(w, "root");
        json_obj_begin(w);
        json_kv_str(w, "path", "merged");
        json_kv_bool(w, "readonly", o->read_only);
        json_obj_end(w);
        _cleanup_free_ char *host = xstrndup(o->hostname ? o->hostname : b->id, 63);
        json_kv_str(w, "hostname", host);
        json_key(w, "mounts");
        json_arr_begin(w);
        std_mounts(w);
        int r = user_mounts(w, o, err);
        net_mounts(w, o, &b->net);
        json_arr_end(w);
        json_key(w, "annotations");
        json_obj_begin(w);
        for (size_t i = 0; b->img->labels && b->img->labels[i] && b->img->labels[i + 1]; i += 2)
                json_kv_str(w, b->img->labels[i], b->img->labels[i + 1]);
        if (b->img->stop_signal)
                json_kv_str(w, "org.opencontainers.image.stopSignal", b->img->stop_signal);
        json_kv_str(w, "run.husk.image.id", b->image_id);
        json_kv_str(w, HUSK_IMAGE_CONTAINER_ANNOTATION, b->bundle);
        json_obj_end(w);
        json_key(w, "linux");
        json_obj_begin(w);
        if (r == 0)
                r = resources(w, o, err);
        linux_json(w, &b->net);
        json_obj_end(w);
        json_obj_end(w);
        _cleanup_free_ char *text = json_writer_finish(w);
        if (r < 0)
                return r;
        /* The default seccomp profile is JSON text of its own: splice it in as linux.seccomp. */
        _cleanup_free_ char *sc = seccomp_default_profile_json();
        if (!sc)
                return husk_error_set(err, EINVAL, "no default seccomp profile");
        char *end = strrchr(text, '}'); /* closes the document */
        char *lend = end ? end - 1 : NULL;
        while (lend && lend > text && *lend != '}')
                lend--; /* closes "linux" */
        if (!lend || lend <= text)
                return husk_error_set(err, EINVAL, "internal: config text");
        *lend = '\0';
        *ret = xasprintf("%s,\n\"seccomp\": %s\n}\n}\n", text, sc);
        return 0;
}

/* ---- the container folder ---- */

static int open_marked(const char *bundle, const char *id, int *ret_parent, husk_error_t *err);

static int open_containers(const char *store, int *ret_fd, husk_error_t *err)
{
        _cleanup_free_ char *p = xasprintf("%s/containers", store);
        int r = mkdir_p(p, 0700);
        if (r < 0)
                return util_syserr(err, -r, "create %s", p);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open %s", p);
        *ret_fd = fd;
        return 0;
}

/* "PID START\nROOT\n": written with the marker, before the first mount (see
 * husk_image_container_owner). */
static int write_owner(int d, const char *root, const char *id, husk_error_t *err)
{
        pid_t self = getpid();
        _cleanup_free_ char *abs = realpath(root, NULL);
        _cleanup_free_ char *text = xasprintf("%d %llu\n%s\n", (int)self,
                                              (unsigned long long)state_proc_start_time(self),
                                              abs ? abs : root);
        if (write_file_atomic_at(d, OWNER, text, strlen(text), 0600) < 0)
                return util_syserr(err, errno, "write the owner of container %s", id);
        return 0;
}

/* The folder is built as .prep-PID-XXXXXX (marker, owner, upper, work, merged) and renamed to ID
 * only when complete: STORE/containers/ID exists only with its records, and a kill before the
 * rename leaves a .prep- folder whose owner record is dead (system prune removes it). */
static int build_dirs(int cfd, const char *tmp, const char *id, const char *root, husk_error_t *err)
{
        _cleanup_close_ int d = openat(cfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
                return util_syserr(err, errno, "open the folder of container %s", id);
        /* The marker first: husk_image_container_remove only removes a folder that has it. */
        _cleanup_close_ int m = openat(d, MARKER, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (m < 0 || write_all(m, id, strlen(id)) < 0)
                return util_syserr(err, errno, "write the marker of container %s", id);
        /* The root must exist for realpath; create makes it anyway. */
        (void)mkdir_p(root, 0700);
        int r = write_owner(d, root, id, err);
        if (r < 0)
                return r;
        static const struct {
                const char *name;
                mode_t mode;
        } dirs[] = { { "upper", 0755 }, { "work", 0700 }, { "merged", 0755 } };
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
                if (mkdirat(d, dirs[i].name, dirs[i].mode) < 0 ||
                    fchmodat(d, dirs[i].name, dirs[i].mode, 0) < 0)
                        return util_syserr(err, errno, "create %s of container %s", dirs[i].name, id);
        util_kill_point("run:prep");
        return 0;
}

static int make_dirs(int cfd, const char *id, const char *root, int *ret_dir, husk_error_t *err)
{
        if (faccessat(cfd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return husk_error_set(err, EEXIST, "container \"%s\" already exists "
                                      "(husk delete %s)", id, id);
        char tmp[64];
        int r = -EEXIST;
        for (int i = 0; i < 100 && r == -EEXIST; i++) {
                snprintf(tmp, sizeof(tmp), ".prep-%d-%08x", (int)getpid(),
                         (unsigned)(now_ns() >> 7) + (unsigned)i * 7919u);
                r = mkdirat(cfd, tmp, 0700) < 0 ? -errno : 0;
        }
        if (r < 0)
                return util_syserr(err, -r, "create the folder of container %s", id);
        r = build_dirs(cfd, tmp, id, root, err);
        if (r == 0 && renameat2(cfd, tmp, cfd, id, RENAME_NOREPLACE) < 0)
                r = errno == EEXIST || errno == ENOTEMPTY
                            ? husk_error_set(err, EEXIST, "container \"%s\" already exists "
                                             "(husk delete %s)", id, id)
                            : util_syserr(err, errno, "create the folder of container %s", id);
        if (r < 0) {
                (void)rm_rf_at(cfd, tmp); /* nothing is mounted there yet */
                return r;
        }
        util_kill_point("run:folder");
        int d = openat(cfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
                return util_syserr(err, errno, "open the folder of container %s", id);
        *ret_dir = d;
        return 0;
}

static int make_root(int dir, char *const *layers, bool *ret_copied, char **ret_notice,
                     husk_error_t *err)
{
        _cleanup_close_ int up = openat(dir, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int wk = openat(dir, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int mg = openat(dir, "merged", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (up < 0 || wk < 0 || mg < 0)
                return util_syserr(err, errno, "open the container's root folders");
        husk_error_t oerr = { 0 };
        /* HUSK_IMAGE_COPY=1 forces the copy (tests; filesystems where overlay misbehaves). */
        const char *force = getenv("HUSK_IMAGE_COPY");
        if (force && strcmp(force, "1") == 0)
                husk_error_set(&oerr, EPERM, "HUSK_IMAGE_COPY=1");
        else if (run_mount_overlay(layers, up, wk, mg, &oerr) == 0)
                return 0;
        /* Overlay is not available here (e.g. the store is on a filesystem that cannot be an
         * upper layer): the root becomes a private copy. Slow for big images; said once. */
        *ret_notice = xasprintf("overlay cannot be used (%s): the container's root is a private "
                                "copy of the image", oerr.msg);
        *ret_copied = true;
        return run_copy_layers(layers, mg, err);
}

/* STORE/containers/ID/layers: the diff_ids under this root, so `husk image prune` keeps them
 * while the container exists even when its image is removed. */
static int pin_layers(int dir, char *const *layer_dirs, husk_error_t *err)
{
        size_t n = strv_length(layer_dirs);
        _cleanup_free_ char *text = xcalloc(n + 1, DIGEST_HEX_LEN + 1);
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                /* STORE/layers/HEX/diff */
                const char *end = strrchr(layer_dirs[i], '/');
                if (!end || end - layer_dirs[i] < DIGEST_HEX_LEN + 1 ||
                    end[-DIGEST_HEX_LEN - 1] != '/')
                        return husk_error_set(err, EINVAL, "unexpected layer dir %s", layer_dirs[i]);
                memcpy(text + o, end - DIGEST_HEX_LEN, DIGEST_HEX_LEN);
                o += DIGEST_HEX_LEN;
                text[o++] = '\n';
        }
        if (write_file_atomic_at(dir, "layers", text, o, 0600) < 0)
                return util_syserr(err, errno, "write the layer list of the container");
        return 0;
}

void husk_image_container_done(husk_image_container_t *c)
{
        free(c->bundle);
        free(c->image_id);
        free(c->notice);
        *c = (husk_image_container_t){ 0 };
}

static int prepare(const husk_image_run_opts_t *o, const char *id, const char *store, int cfd,
                   husk_image_container_t *c, husk_error_t *err)
{
        _cleanup_close_ int store_fd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dir = -1, mg = -1;
        husk_image_resolved_t *res = NULL;
        build_t b = { .o = o, .id = id };
        _cleanup_free_ char *text = NULL;
        int r = 0;
        if (store_fd < 0)
                return util_syserr(err, errno, "open the store %s", store);
        bool path = husk_image_ref_is_path(o->ref);
        if (path)
                r = load_ref(&o->image, store_fd, o->ref, false, &c->image_id, &c->loaded, err);
        else
                c->image_id = xstrdup(o->ref);
        if (r < 0)
                return r;
        r = husk_image_resolve(&o->image, c->image_id, &res, err);
        if (r < 0 && path && !c->loaded) {
                /* A cache entry whose image was removed since: load the file again. */
                husk_error_clear(err);
                free(TAKE_PTR(c->image_id));
                if ((r = load_ref(&o->image, store_fd, o->ref, true, &c->image_id, &c->loaded,
                                  err)) == 0)
                        r = husk_image_resolve(&o->image, c->image_id, &res, err);
        }
        if (r < 0)
                return r;
        free(c->image_id);
        c->image_id = xstrdup(res->id);
        c->bundle = xasprintf("%s/containers/%s", store, id);
        b.bundle = c->bundle;
        b.image_id = res->id;
        b.img = &res->config;
        if ((r = make_dirs(cfd, id, o->root ? o->root : state_default_root(), &dir, err)) < 0) {
                husk_image_resolved_free(res);
                if (r == -EEXIST) {
                        free(TAKE_PTR(c->bundle)); /* not ours: never removed */
                }
                return r;
        }
        if ((r = pin_layers(dir, res->layer_dirs, err)) < 0 ||
            (r = make_root(dir, res->layer_dirs, &c->copied, &c->notice, err)) < 0)
                goto out;
        util_kill_point("run:root");
        mg = openat(dir, "merged", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (mg < 0) {
                r = util_syserr(err, errno, "open the root of container %s", id);
                goto out;
        }
        if ((r = resolve_user(mg, o->user ? o->user : res->config.user, &b.user, err)) < 0)
                goto out;
        b.cwd = o->workdir ? o->workdir
                           : (res->config.working_dir && res->config.working_dir[0]
                                      ? res->config.working_dir : "/");
        if (b.cwd[0] != '/') {
                r = husk_error_set(err, EINVAL, "working directory \"%s\" is not absolute", b.cwd);
                goto out;
        }
        if ((r = mkdir_in_root(mg, b.cwd, err)) < 0)
                goto out;
        b.args = run_args(&res->config, o->entrypoint, o->command);
        if (!b.args) {
                r = husk_error_set(err, EINVAL, "image %s has no Entrypoint or Cmd: give a "
                                   "COMMAND", res->id);
                goto out;
        }
        const char *bad = NULL;
        b.caps = run_caps(o->cap_add, o->cap_drop, &bad);
        if (!b.caps) {
                r = husk_error_set(err, EINVAL, "unknown capability \"%s\"", bad);
                goto out;
        }
        {
                /* Last before config.json: the network is the costliest step to undo. */
                net_setup_req_t nq = { .store = store, .bundle = c->bundle, .dirfd = dir, .id = id,
                                       .network = o->network, .publish = o->publish,
                                       .hostname = o->hostname };
                if ((r = net_container_setup(&nq, &b.net, err)) < 0)
                        goto out;
                util_kill_point("run:net");
        }
        {
                _cleanup_strv_ char **add = strv_copy(o->env, strv_length(o->env));
                char **base = res->config.env;
                _cleanup_strv_ char **withterm = NULL;
                if (o->terminal) {
                        char *t[] = { "TERM=xterm", NULL };
                        withterm = run_env_merge(base, t);
                        base = withterm;
                }
                _cleanup_free_ char *hn = xasprintf("HOSTNAME=%.63s", o->hostname ? o->hostname : id);
                char *h[] = { hn, NULL };
                _cleanup_strv_ char **withhost = run_env_merge(base, h);
                b.env = run_env_merge(withhost, add);
        }
        if ((r = config_text(&b, &text, err)) < 0)
                goto out;
        if (write_file_atomic_at(dir, "config.json", text, strlen(text), 0600) < 0) {
                r = util_syserr(err, errno, "write %s/config.json", c->bundle);
                goto out;
        }
        util_kill_point("run:config");
        r = 0;
out:
        strv_free(b.args);
        strv_free(b.env);
        strv_free(b.caps);
        free(b.user.groups);
        net_setup_done(&b.net);
        husk_image_resolved_free(res);
        return r;
}

int husk_image_container_prepare(const husk_image_run_opts_t *o, const char *id,
                                 husk_image_container_t *ret, husk_error_t *err)
{
        husk_image_container_t c = { 0 };
        _cleanup_close_ int cfd = -1;
        _cleanup_free_ char *store = NULL;
        int r = husk_id_validate(id, err);
        if (r < 0)
                return r;
        if (!o->ref || !o->ref[0])
                return husk_error_set(err, EINVAL, "no image given");
        const char *sp = husk_image_store_path(&o->image);
        if ((r = mkdir_p(sp, 0700)) < 0)
                return util_syserr(err, -r, "create the store %s", sp);
        if (!(store = realpath(sp, NULL)))
                return util_syserr(err, errno, "store %s", sp);
        if ((r = open_containers(store, &cfd, err)) < 0)
                return r;
        r = prepare(o, id, store, cfd, &c, err);
        if (r < 0) {
                if (c.bundle) {
                        husk_error_t ignored; /* the prepare error is the one to report */
                        (void)husk_image_container_remove(c.bundle, id, &ignored);
                }
                husk_image_container_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

/* The owner record names a live process (us, when a foreground run removes its own folder). */
static bool owner_alive(int d)
{
        _cleanup_free_ char *text = NULL;
        int pid = 0;
        uint64_t start = 0;
        if (read_file_at(d, OWNER, 8192, &text, NULL) < 0)
                return false;
        char *sp = strchr(text, ' '), *nl = strchr(text, '\n');
        if (!sp || !nl || sp > nl)
                return false;
        *sp = *nl = '\0';
        return parse_int(text, &pid) == 0 && parse_uint64(sp + 1, &start) == 0 &&
               state_pid_alive(pid, start);
}

/* Wait (at most PLUGIN_WAIT_MS) until no process has CNI_CONTAINERID=id in its environment: a
 * CNI plugin that a killed husk started goes on with its ADD (veth, lease, iptables rules), and
 * a DEL must come after it, not during it. */
#define PLUGIN_WAIT_MS 5000
static void wait_plugins(const char *id)
{
        _cleanup_free_ char *want = xasprintf("CNI_CONTAINERID=%s", id);
        size_t wl = strlen(want) + 1; /* with its NUL: the whole variable */
        for (int waited = 0; waited < PLUGIN_WAIT_MS; waited += 20) {
                bool found = false;
                _cleanup_closedir_ DIR *p = opendir("/proc");
                struct dirent *de;
                while (p && !found && (de = readdir(p))) {
                        if (de->d_name[0] < '1' || de->d_name[0] > '9')
                                continue;
                        _cleanup_free_ char *f = xasprintf("%s/environ", de->d_name), *env = NULL;
                        size_t len = 0;
                        if (read_file_at(dirfd(p), f, 1u << 20, &env, &len) < 0)
                                continue;
                        for (size_t o = 0; o + wl <= len + 1 && !found; o += strlen(env + o) + 1)
                                found = memcmp(env + o, want, wl - 1) == 0 && env[o + wl - 1] == '\0';
                }
                if (!found)
                        return;
                usleep(20000);
        }
}

int husk_image_container_remove(const char *bundle, const char *id, husk_error_t *err)
{
        _cleanup_close_ int pfd = -1;
        _cleanup_close_ int d = open_marked(bundle, id, &pfd, err);
        if (d < 0)
                return d;
        /* A husk killed during CNI ADD leaves its plugin running: a DEL now would race it. */
        if (!owner_alive(d))
                wait_plugins(id);
        /* The network first (CNI DEL, netns): it needs the folder's files. Its failure does
         * not keep the folder: what could be released was, and a retry has no state to use. */
        husk_error_t nerr = { 0 };
        int nr = net_container_teardown(d, bundle, id, &nerr);
        _cleanup_free_ char *merged = xasprintf("%s/merged", bundle);
        if (umount2(merged, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return util_syserr(err, errno, "unmount %s", merged);
        /* Never descend into a mount: rm -rf goes only when merged is a plain dir again. */
        struct stat a, m;
        if (fstat(d, &a) == 0 && fstatat(d, "merged", &m, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_dev != m.st_dev)
                return husk_error_set(err, EBUSY, "%s is still mounted", merged);
        int r = rm_rf_at(pfd, id);
        if (r < 0)
                return util_syserr(err, -r, "remove %s", bundle);
        if (nr < 0) {
                *err = nerr;
                return nr;
        }
        return 0;
}

/* The folder fd of bundle when it is STORE/containers/ID with prepare's marker for id. */
static int open_marked(const char *bundle, const char *id, int *ret_parent, husk_error_t *err)
{
        _cleanup_free_ char *parent = NULL, *marker = NULL;
        const char *slash = bundle ? strrchr(bundle, '/') : NULL;
        /* Only STORE/containers/ID made by prepare: the annotation that leads here is in a
         * config.json, which a bundle author could write by hand. */
        if (!slash || strcmp(slash + 1, id) != 0 || slash - bundle < 11 ||
            strncmp(slash - 11, "/containers", 11) != 0)
                return husk_error_set(err, EPERM, "%s is not an image container folder of %s",
                                      bundle ? bundle : "(null)", id);
        parent = xstrndup(bundle, (size_t)(slash - bundle));
        _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0)
                return util_syserr(err, errno, "open %s", parent);
        _cleanup_close_ int d = openat(pfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
                return util_syserr(err, errno, "open %s", bundle);
        if (read_file_at(d, MARKER, 2048, &marker, NULL) < 0 || strcmp(marker, id) != 0)
                return husk_error_set(err, EPERM, "%s has no husk marker for %s: not removed",
                                      bundle, id);
        if (ret_parent)
                *ret_parent = TAKE_FD(pfd);
        return TAKE_FD(d);
}

int husk_image_container_owner(const char *bundle, const char *id,
                               husk_image_container_owner_t *ret, husk_error_t *err)
{
        _cleanup_close_ int d = open_marked(bundle, id, NULL, err);
        if (d == -EPERM) {
                err->code = ENOENT; /* not a folder of ours: nothing of it to own */
                return -ENOENT;
        }
        if (d < 0)
                return d;
        _cleanup_free_ char *text = NULL;
        if (read_file_at(d, OWNER, 8192, &text, NULL) < 0)
                return husk_error_set(err, ENOENT, "%s has no owner record", bundle);
        char *nl = strchr(text, '\n'), *sp = strchr(text, ' ');
        int pid = 0;
        uint64_t start = 0;
        if (!nl || !sp || sp > nl)
                return husk_error_set(err, EINVAL, "%s/%s: malformed", bundle, OWNER);
        *nl = *sp = '\0';
        char *root = nl + 1;
        root[strcspn(root, "\n")] = '\0';
        if (parse_int(text, &pid) < 0 || pid <= 0 || parse_uint64(sp + 1, &start) < 0 ||
            root[0] != '/')
                return husk_error_set(err, EINVAL, "%s/%s: malformed", bundle, OWNER);
        *ret = (husk_image_container_owner_t){
                .pid = pid,
                .alive = state_pid_alive(pid, start),
                .service = faccessat(d, "service.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0,
                .root = xstrdup(root),
        };
        return 0;
}

void husk_image_container_owner_done(husk_image_container_owner_t *o)
{
        free(o->root);
        *o = (husk_image_container_owner_t){ 0 };
}

int husk_image_prep_prune(const char *store, const char *id, size_t *ret_removed,
                          husk_error_t *err)
{
        _cleanup_free_ char *cdir = xasprintf("%s/containers", store);
        _cleanup_closedir_ DIR *d = opendir(cdir);
        struct dirent *de;
        size_t n = 0;
        int ret = 0;
        while (d && (de = readdir(d))) {
                if (strncmp(de->d_name, ".prep-", 6) != 0)
                        continue;
                int pid = 0;
                char *dash = strchr(de->d_name + 6, '-');
                _cleanup_free_ char *num = dash ? xstrndup(de->d_name + 6,
                                                           (size_t)(dash - de->d_name - 6))
                                                : NULL;
                /* Its maker (or a process that has its pid now) still runs: not a leftover. */
                if (!num || parse_int(num, &pid) < 0 || pid <= 0 || kill(pid, 0) == 0 ||
                    errno != ESRCH)
                        continue;
                _cleanup_free_ char *marker = NULL, *mp = xasprintf("%s/%s", de->d_name, MARKER);
                /* Without a marker its maker was killed right after the mkdir: the folder is
                 * empty and nobody's, so any cleanup takes it. */
                int mr = read_file_at(dirfd(d), mp, 2048, &marker, NULL);
                if (id && mr != -ENOENT && (mr < 0 || strcmp(marker, id) != 0))
                        continue;
                int r = rm_rf_at(dirfd(d), de->d_name); /* nothing is mounted before the rename */
                if (r < 0 && ret == 0)
                        ret = util_syserr(err, r, "remove %s/%s", cdir, de->d_name);
                else if (r == 0)
                        n++;
        }
        if (ret_removed)
                *ret_removed = n;
        return ret;
}
