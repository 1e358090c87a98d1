/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroups: detection (statfs on /sys/fs/cgroup), the container's path, the hierarchies it lives
 * in, and the life cycle (create, enter, freeze, kill, destroy, serialize). Resource files are
 * written by resources.c, device rules by devices.c. Host side only. */
#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---------------------------------------------------------------- plan: mountinfo, paths */

bool cgroup_list_has(const char *list, const char *name)
{
        size_t n = strlen(name);
        for (const char *p = list; p && *p;) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (len == n && strncmp(p, name, n) == 0)
                        return true;
                p = e ? e + 1 : NULL;
        }
        return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 4;
                } else {
                        *o++ = *s++;
                }
        }
        *o = '\0';
        return out;
}

/* Super options of a v1 mount minus the mount flags: what is left names the controllers. */
static char *v1_controllers(const char *superopts)
{
        static const char *const flags[] = { "rw", "ro", "xattr", "noprefix", "clone_children",
                                             "cpuset_v2_mode", "favordynmods" };
        _cleanup_free_ char *copy = xstrdup(superopts);
        char *out = xcalloc(1, strlen(superopts) + 1), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                bool skip = strchr(t, '=') && strncmp(t, "name=", 5) != 0;
                for (size_t i = 0; i < ARRAY_SIZE(flags) && !skip; i++)
                        skip = strcmp(t, flags[i]) == 0;
                if (skip)
                        continue;
                if (*out)
                        strcat(out, ",");
                strcat(out, t);
        }
        return out;
}

void cgroup_mounts_free(cg_mount *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(m[i].mountpoint);
                free(m[i].controllers);
        }
        free(m);
}

int cgroup_parse_mountinfo(const char *text, cg_mount **ret, size_t *ret_n)
{
        _cleanup_free_ char *copy = xstrdup(text);
        cg_mount *m = NULL;
        size_t n = 0;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[6] = { 0 }, *s2 = NULL;
                size_t nf = 0;
                /* fields: id parent maj:min root mountpoint options ... - fstype source superopts */
                while (nf < 6 && (f[nf] = strtok_r(nf ? NULL : line, " ", &s2)))
                        nf++;
                if (nf < 6)
                        continue;
                char *t;
                while ((t = strtok_r(NULL, " ", &s2)) && strcmp(t, "-") != 0)
                        ;
                char *fstype = strtok_r(NULL, " ", &s2), *src = strtok_r(NULL, " ", &s2);
                char *superopts = strtok_r(NULL, " ", &s2);
                if (!t || !fstype || !src || !superopts)
                        continue;
                bool unified = strcmp(fstype, "cgroup2") == 0;
                if (!unified && strcmp(fstype, "cgroup") != 0)
                        continue;
                _cleanup_free_ char *ctrls = unified ? xstrdup("") : v1_controllers(superopts);
                bool dup = false;
                for (size_t i = 0; i < n && !dup; i++)
                        dup = m[i].unified == unified && strcmp(m[i].controllers, ctrls) == 0;
                if (dup)
                        continue;
                m = xrealloc(m, (n + 1) * sizeof(*m));
                m[n].mountpoint = unescape(f[4]);
                m[n].controllers = TAKE_PTR(ctrls);
                m[n].unified = unified;
                n++;
        }
        *ret = m;
        *ret_n = n;
        return 0;
}

int cgroup_path_resolve(const char *cgroups_path, const char *id, char **ret, husk_error_t *err)
{
        if (!cgroups_path || !*cgroups_path) {
                *ret = xasprintf("/%s/%s", CGROUP_DEFAULT_PARENT, id);
                return 0;
        }
        const char *p = cgroups_path;
        if (p[0] != '/') {
                const char *c1 = strchr(p, ':');
                if (c1 && strchr(c1 + 1, ':'))
                        return husk_error_set(err, EINVAL,
                                              "linux.cgroupsPath \"%s\": the systemd form "
                                              "\"slice:prefix:name\" is not supported (no systemd "
                                              "cgroup manager); use a cgroupfs path",
                                              p);
        }
        for (const char *c = p; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return husk_error_set(err, EINVAL,
                                              "linux.cgroupsPath: control character in path");
        /* Normalise: collapse "//" and "/./", refuse ".." (it would leave the cgroup mount). */
        size_t len = strlen(p);
        char *out = xmalloc(len + strlen(CGROUP_DEFAULT_PARENT) + 3), *o = out;
        if (p[0] != '/') {
                o += sprintf(o, "/%s", CGROUP_DEFAULT_PARENT);
        }
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        free(out);
                        return husk_error_set(err, EINVAL,
                                              "linux.cgroupsPath \"%s\": \"..\" is not allowed",
                                              cgroups_path);
                }
                if (!(n == 1 && p[0] == '.')) {
                        *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                }
                p = e;
        }
        *o = '\0';
        if (!*out) {
                free(out);
                return husk_error_set(err, EINVAL,
                                      "linux.cgroupsPath \"%s\": refusing the root cgroup",
                                      cgroups_path);
        }
        *ret = out;
        return 0;
}

/* ---------------------------------------------------------------- handle */

static void join_free(cgroup_handle *h);

void cgroup_handle_free(cgroup_handle *h)
{
        if (!h)
                return;
        for (size_t i = 0; i < h->n_hier; i++) {
                free(h->hier[i].controllers);
                free(h->hier[i].mountpoint);
                free(h->hier[i].dir);
        }
        free(h->hier);
        free(h->dev_allow);
        free(h->path);
        if (h->clone_fd >= 0)
                close(h->clone_fd);
        join_free(h);
        free(h);
}

static void handle_freep(cgroup_handle **h)
{
        cgroup_handle_free(*h);
}
#define _cleanup_handle_ _cleanup_(handle_freep)

static void add_hier(cgroup_handle *h, const char *ctrls, const char *mnt, bool unified)
{
        h->hier = xrealloc(h->hier, (h->n_hier + 1) * sizeof(*h->hier));
        cg_hier *c = &h->hier[h->n_hier++];
        c->controllers = xstrdup(ctrls);
        c->mountpoint = xstrdup(mnt);
        c->dir = xasprintf("%s%s", mnt, h->path);
        c->unified = unified;
        c->created = false;
}

/* Which driver: pure v2 when /sys/fs/cgroup is a cgroup2 mount, else v1 with every mounted
 * controller (plus the unified mount of a hybrid host, where runc also creates the dir). */
static int handle_new(const char *path, int want_version, cgroup_handle **ret, husk_error_t *err)
{
        struct statfs sfs;
        if (statfs(CGROUP_ROOT, &sfs) < 0)
                return util_syserr(err, errno, "statfs %s", CGROUP_ROOT);
        int version = sfs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
        if (want_version && want_version != version)
                return husk_error_set(err, EINVAL,
                                      "container cgroup was made by the v%d driver, the host now "
                                      "uses cgroup v%d",
                                      want_version, version);
        _cleanup_handle_ cgroup_handle *h = xcalloc(1, sizeof(*h));
        h->clone_fd = -1;
        h->version = version;
        h->path = xstrdup(path);
        if (version == 2) {
                add_hier(h, "", CGROUP_ROOT, true);
                *ret = TAKE_PTR(h);
                return 0;
        }
        _cleanup_free_ char *mi = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &mi, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read /proc/self/mountinfo");
        cg_mount *m = NULL;
        size_t n = 0;
        cgroup_parse_mountinfo(mi, &m, &n);
        for (size_t i = 0; i < n; i++)
                add_hier(h, m[i].controllers, m[i].mountpoint, m[i].unified);
        cgroup_mounts_free(m, n);
        if (h->n_hier == 0)
                return husk_error_set(err, ENOENT, "no cgroup hierarchy is mounted");
        *ret = TAKE_PTR(h);
        return 0;
}

cg_hier *cgroup_find_hier(cgroup_handle *h, const char *ctrl)
{
        for (size_t i = 0; i < h->n_hier; i++) {
                cg_hier *c = &h->hier[i];
                if (h->version == 2 ? c->unified : (!c->unified && cgroup_list_has(c->controllers, ctrl)))
                        return c;
        }
        return NULL;
}

/* ---------------------------------------------------------------- create */

/* v1 cpuset: a new cgroup starts with empty cpuset.cpus/mems and cannot take tasks until they are
 * set, so fill every level from its parent, top-down. */
static int cpuset_init(const cg_hier *c, husk_error_t *err)
{
        _cleanup_free_ char *p = xstrdup(c->dir);
        size_t base = strlen(c->mountpoint);
        for (char *s = p + base + 1;; s++) {
                if (*s && *s != '/')
                        continue;
                char saved = *s;
                *s = '\0';
                static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                        _cleanup_close_ int dfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        _cleanup_free_ char *cur = NULL, *parent = NULL;
                        if (dfd < 0)
                                return util_syserr(err, errno, "open %s", p);
                        if (read_file_at(dfd, files[i], 4096, &cur, NULL) < 0)
                                continue;
                        if (strspn(cur, " \n") != strlen(cur))
                                continue;
                        _cleanup_free_ char *ppath = xasprintf("%s/../%s", p, files[i]);
                        int r = read_file_at(AT_FDCWD, ppath, 4096, &parent, NULL);
                        if (r < 0)
                                return util_syserr(err, -r, "read %s", ppath);
                        r = write_file_at(dfd, files[i], parent);
                        if (r < 0)
                                return util_syserr(err, -r, "write %s/%s", p, files[i]);
                }
                if (!saved)
                        break;
                *s = saved;
        }
        return 0;
}

/* v2: the controllers of each parent must be enabled in its cgroup.subtree_control, top-down.
 * Only what is missing is written (the usual case on a second container: nothing). */
static int v2_enable_controllers(const cg_hier *c, husk_error_t *err)
{
        _cleanup_free_ char *p = xstrdup(c->dir);
        char *last = strrchr(p, '/');
        size_t base = strlen(c->mountpoint);
        if (!last || (size_t)(last - p) < base)
                return 0;
        *last = '\0';
        for (char *s = p + base;; s++) {
                if (*s && *s != '/')
                        continue;
                char saved = *s;
                *s = '\0';
                const char *dir = *p ? p : "/";
                _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return util_syserr(err, errno, "open %s", dir);
                struct stat dst;
                /* Rootless: the ancestors above the delegated subtree are not ours to change. */
                if (geteuid() != 0 && (fstat(dfd, &dst) < 0 || dst.st_uid != geteuid())) {
                        if (!saved)
                                break;
                        *s = saved;
                        continue;
                }
                _cleanup_free_ char *avail = NULL, *enabled = NULL;
                int r = read_file_at(dfd, "cgroup.controllers", 4096, &avail, NULL);
                if (r < 0)
                        return util_syserr(err, -r, "read %s/cgroup.controllers", dir);
                r = read_file_at(dfd, "cgroup.subtree_control", 4096, &enabled, NULL);
                if (r < 0)
                        return util_syserr(err, -r, "read %s/cgroup.subtree_control", dir);
                char buf[512] = "", *save = NULL;
                for (char *t = strtok_r(avail, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                        char *e = strstr(enabled, t);
                        size_t tl = strlen(t);
                        bool on = false;
                        for (; e && !on; e = strstr(e + 1, t))
                                on = (e == enabled || e[-1] == ' ') &&
                                     (e[tl] == ' ' || e[tl] == '\n' || e[tl] == '\0');
                        if (!on && strlen(buf) + tl + 3 < sizeof(buf)) {
                                strcat(buf, " +");
                                strcat(buf, t);
                        }
                }
                if (*buf) {
                        r = write_file_at(dfd, "cgroup.subtree_control", buf + 1);
                        if (r < 0)
                                return util_syserr(err, -r,
                                                   "enable controllers (%s) in "
                                                   "%s/cgroup.subtree_control%s",
                                                   buf + 1, dir,
                                                   r == -EBUSY ? " (the parent cgroup has "
                                                                 "processes of its own)"
                                                               : "");
                }
                if (!saved)
                        break;
                *s = saved;
        }
        return 0;
}

static int rmdir_tree(const char *dir);
static int v2_events_field(const char *dir, const char *key, int *ret);
static cg_hier *procs_hier(cgroup_handle *h);

/* A process that enters a frozen cgroup stops at once, in the kernel: husk's child would never
 * report back and husk would wait for it forever (runc: "container's cgroup unexpectedly
 * frozen"). A new cgroup under a frozen parent is frozen too, so this runs after the mkdir. */
static int check_not_frozen(cgroup_handle *h, husk_error_t *err)
{
        /* cgroup2 (pure v2, or the unified dir of a hybrid host, which has a freezer of its
         * own: cgroup.freeze, inherited from the parents) */
        for (size_t i = 0; i < h->n_hier; i++) {
                if (!h->hier[i].unified)
                        continue;
                const char *dir = h->hier[i].dir;
                _cleanup_free_ char *f = xasprintf("%s/cgroup.freeze", dir), *self = NULL;
                int v = 0;
                bool frozen = (v2_events_field(dir, "frozen", &v) == 0 && v == 1) ||
                              (read_file_at(AT_FDCWD, f, 64, &self, NULL) == 0 && self[0] == '1');
                if (frozen)
                        return husk_error_set(err, EBUSY,
                                              "the container's cgroup %s is frozen; thaw it "
                                              "(cgroup.freeze) or use another linux.cgroupsPath",
                                              dir);
        }
        if (h->version == 2)
                return 0;
        cg_hier *c = cgroup_find_hier(h, "freezer");
        if (!c)
                return 0;
        _cleanup_free_ char *f = xasprintf("%s/freezer.state", c->dir), *cur = NULL;
        int r = read_file_at(AT_FDCWD, f, 64, &cur, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read %s", f);
        if (strncmp(cur, "THAWED", 6) != 0) {
                cur[strcspn(cur, "\n")] = '\0';
                return husk_error_set(err, EBUSY,
                                      "the container's cgroup %s is frozen (freezer.state %s); "
                                      "thaw it or use another linux.cgroupsPath",
                                      c->dir, cur);
        }
        return 0;
}

static int read_pids_tree(const char *dir, int depth, pid_t **v, size_t *n);

/* Processes in dir and the cgroups below it, best effort (what could be read is counted). */
static size_t count_procs_tree(const char *dir)
{
        _cleanup_free_ pid_t *v = NULL;
        size_t n = 0;
        (void)read_pids_tree(dir, 0, &v, &n); /* a warning's count: partial is fine */
        return n;
}

size_t cgroup_preexisting_procs(const cgroup_handle *h)
{
        return h->preexisting_procs;
}

void cgroup_abandon(cgroup_handle *h)
{
        for (size_t i = 0; i < h->n_hier; i++)
                if (h->hier[i].created)
                        (void)rmdir_tree(h->hier[i].dir); /* best effort: create already failed */
}

static void create_undo(cgroup_handle *h)
{
        cgroup_abandon(h);
}

int cgroup_plan(const char *id, const husk_config *cfg, cgroup_handle **ret, husk_error_t *err)
{
        _cleanup_free_ char *path = NULL;
        int r = cgroup_path_resolve(cfg->linux_.cgroups_path, id, &path, err);
        if (r < 0)
                return r;
        _cleanup_handle_ cgroup_handle *h = NULL;
        r = handle_new(path, 0, &h, err);
        if (r < 0)
                return r;
        cgroup_devices_to_rules(cfg->linux_.devices, cfg->linux_.n_devices, &h->dev_allow,
                                &h->n_dev_allow);
        *ret = TAKE_PTR(h);
        return 0;
}

int cgroup_create(const char *id, const husk_config *cfg, cgroup_handle **ret, husk_error_t *err)
{
        _cleanup_handle_ cgroup_handle *h = NULL;
        int r = cgroup_plan(id, cfg, &h, err);
        if (r < 0 || (r = cgroup_make(h, cfg, err)) < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

int cgroup_make(cgroup_handle *h, const husk_config *cfg, husk_error_t *err)
{
        int r;
        for (size_t i = 0; i < h->n_hier; i++) {
                cg_hier *c = &h->hier[i];
                /* The parent usually exists: one mkdir, the walk from / only when it does not. */
                bool existed = false;
                r = 0;
                if (mkdir(c->dir, 0755) < 0) {
                        existed = errno == EEXIST;
                        r = errno == ENOENT ? mkdir_p(c->dir, 0755) : existed ? 0 : -errno;
                }
                if (r < 0) {
                        util_syserr(err, -r, "create cgroup %s", c->dir);
                        goto fail;
                }
                c->created = !existed;
                if (h->version == 2) {
                        r = v2_enable_controllers(c, err);
                        if (r < 0)
                                goto fail;
                }
                if (!c->unified && cgroup_list_has(c->controllers, "cpuset")) {
                        r = cpuset_init(c, err);
                        if (r < 0)
                                goto fail;
                }
        }
        if ((r = check_not_frozen(h, err)) < 0)
                goto fail;
        /* runc 1.1 warns about a populated cgroup and goes on (runc 1.2 refuses): the count lets
         * the caller warn, and keeps a failed create from killing processes that are not its
         * own. Only a cgroup that existed before can hold any. */
        cg_hier *ph = procs_hier(h);
        if (ph && !ph->created)
                h->preexisting_procs = count_procs_tree(ph->dir);
        const config_resources *res = cfg->linux_.resources;
        static const config_resources none;
        r = cgroup_apply_resources(h, res ? res : &none, true, err);
        if (r < 0)
                goto fail;
        return 0;
fail:
        create_undo(h);
        return r;
}

/* ---------------------------------------------------------------- enter, pids, signals */

int cgroup_enter(cgroup_handle *h, pid_t pid, husk_error_t *err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t i = 0; i < h->n_hier; i++) {
                _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", h->hier[i].dir);
                int r = write_file_at(AT_FDCWD, f, buf);
                if (r < 0)
                        return util_syserr(err, -r, "move pid %d into %s", (int)pid, f);
        }
        return 0;
}

int cgroup_clone_fd(cgroup_handle *h)
{
        if (h->clone_fd >= 0)
                return h->clone_fd;
        for (size_t i = 0; i < h->n_hier; i++)
                if (h->hier[i].unified) {
                        h->clone_fd = open(h->hier[i].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        break;
                }
        return h->clone_fd;
}

/* Why the child joins its v1 cgroups itself: a pid written to a v1 cgroup.procs or tasks file
 * makes the kernel write-lock cgroup_threadgroup_rwsem, a percpu rwsem whose writer waits for an
 * RCU grace period (rcu_sync_enter) while it holds cgroup_mutex: 0.3-3 ms on an idle host, 10-20
 * ms on a loaded one, and every other cgroup operation on the host (a parallel start, its mkdir,
 * rmdir) waits behind it. A thread that moves itself ("0" written to "tasks") is exempt: the
 * kernel skips that lock when the target is current and a single thread
 * (cgroup_procs_write_start). The child is single-threaded, a fork, so its only thread is the
 * whole process. Permission is checked with the opener's credentials (the file's f_cred), so the
 * host side opens the files and the child only writes. */
int cgroup_join_open(cgroup_handle *h, husk_error_t *err)
{
        join_free(h);
        if (h->version != 1)
                return 0;
        int *fds = xcalloc(h->n_hier, sizeof(int));
        int n = 0;
        for (size_t i = 0; i < h->n_hier; i++) {
                fds[i] = -1;
                if (h->hier[i].unified)
                        continue;
                _cleanup_free_ char *f = xasprintf("%s/tasks", h->hier[i].dir);
                fds[i] = open(f, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fds[i] < 0) {
                        int e = errno;
                        h->join_fds = fds;
                        join_free(h);
                        return util_syserr(err, e, "open %s", f);
                }
                n++;
        }
        h->join_fds = fds;
        return n;
}

int cgroup_join_self(cgroup_handle *h, husk_error_t *err)
{
        if (!h || !h->join_fds)
                return 0;
        for (size_t i = 0; i < h->n_hier; i++) {
                if (h->join_fds[i] < 0)
                        continue;
                /* "0": the calling thread (cgroup_procs_write_start), no global lock. */
                if (write(h->join_fds[i], "0", 1) < 0)
                        return util_syserr(err, errno, "join cgroup %s (write 0 to tasks)",
                                           h->hier[i].dir);
                close(h->join_fds[i]);
                h->join_fds[i] = -1;
        }
        return 0;
}

/* -2: the fd was handed to the child, which joins that hierarchy itself. */
#define JOIN_BY_CHILD (-2)

void cgroup_join_close(cgroup_handle *h)
{
        if (!h->join_fds)
                return;
        for (size_t i = 0; i < h->n_hier; i++)
                if (h->join_fds[i] >= 0) {
                        close(h->join_fds[i]);
                        h->join_fds[i] = JOIN_BY_CHILD;
                }
}

static void join_free(cgroup_handle *h)
{
        cgroup_join_close(h);
        free(h->join_fds);
        h->join_fds = NULL;
}

int cgroup_enter_rest(cgroup_handle *h, pid_t pid, bool in_cgroup2, husk_error_t *err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t i = 0; i < h->n_hier; i++) {
                if (h->join_fds && h->join_fds[i] != -1)
                        continue; /* the child writes "0" itself */
                if (h->hier[i].unified && in_cgroup2)
                        continue; /* clone3 CLONE_INTO_CGROUP */
                _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", h->hier[i].dir);
                int r = write_file_at(AT_FDCWD, f, buf);
                if (r < 0)
                        return util_syserr(err, -r, "move pid %d into %s", (int)pid, f);
        }
        return 0;
}

/* The hierarchy whose cgroup.procs lists the container's processes. */
static cg_hier *procs_hier(cgroup_handle *h)
{
        cg_hier *c = cgroup_find_hier(h, "pids");
        if (!c)
                c = cgroup_find_hier(h, "freezer");
        if (!c)
                c = cgroup_find_hier(h, "memory");
        return c ? c : (h->n_hier ? &h->hier[0] : NULL);
}

/* Appends the pids in dir/cgroup.procs and in every cgroup below it: cgroup.procs lists only
 * the cgroup's own processes (v1 and v2), and the workload may have made sub-cgroups. */
static int read_pids_tree(const char *dir, int depth, pid_t **v, size_t *n)
{
        _cleanup_free_ char *f = xasprintf("%s/cgroup.procs", dir), *text = NULL;
        int r = read_file_at(AT_FDCWD, f, 64 << 20, &text, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
                int p;
                if (parse_int(t, &p) < 0 || p <= 0)
                        continue;
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = p;
        }
        /* depth bound: the kernel allows deep trees, a stack does not */
        _cleanup_closedir_ DIR *d = depth < 64 ? opendir(dir) : NULL;
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
                    strcmp(de->d_name, "..") != 0) {
                        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                        r = read_pids_tree(sub, depth + 1, v, n);
                        if (r < 0 && r != -ENOENT && r != -ENODEV)
                                return r; /* ENOENT, ENODEV: removed meanwhile */
                }
        return 0;
}

static int read_pids(const char *dir, pid_t **ret, size_t *ret_n)
{
        pid_t *v = NULL;
        size_t n = 0;
        int r = read_pids_tree(dir, 0, &v, &n);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int cgroup_pids(cgroup_handle *h, pid_t **ret, size_t *ret_n, husk_error_t *err)
{
        cg_hier *c = procs_hier(h);
        if (!c)
                return husk_error_set(err, ENOENT, "no cgroup hierarchy");
        int r = read_pids(c->dir, ret, ret_n);
        if (r < 0)
                return util_syserr(err, -r, "read %s/cgroup.procs", c->dir);
        return 0;
}

static int signal_pids(cgroup_handle *h, int signo, size_t *ret_n, husk_error_t *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cgroup_pids(h, &pids, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], signo) < 0 && errno != ESRCH)
                        return util_syserr(err, errno, "kill %d", (int)pids[i]);
        if (ret_n)
                *ret_n = n;
        return 0;
}

int cgroup_kill_all(cgroup_handle *h, int signo, husk_error_t *err)
{
        if (signo != SIGKILL)
                return signal_pids(h, signo, NULL, err);
        /* Freeze first so nothing forks between reading the list and the signals; SIGKILL is
         * delivered once the cgroup is thawed again. */
        bool frozen = false;
        husk_error_t ignored;
        if (cgroup_find_hier(h, "freezer") || h->version == 2)
                frozen = cgroup_freeze(h, true, &ignored) == 0; /* no freezer: kill unfrozen */
        int r = signal_pids(h, signo, NULL, err);
        if (frozen) {
                int r2 = cgroup_freeze(h, false, r < 0 ? &ignored : err);
                if (r >= 0 && r2 < 0)
                        r = r2;
        }
        return r;
}

/* ---------------------------------------------------------------- freezer */

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static int v2_events_field(const char *dir, const char *key, int *ret)
{
        _cleanup_free_ char *f = xasprintf("%s/cgroup.events", dir), *text = NULL;
        int r = read_file_at(AT_FDCWD, f, 4096, &text, NULL);
        if (r < 0)
                return r;
        size_t kl = strlen(key);
        for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
                        *ret = l[kl + 1] == '1';
                        return 0;
                }
        return -ENOENT;
}

int cgroup_freeze(cgroup_handle *h, bool frozen, husk_error_t *err)
{
        if (h->version == 2) {
                const char *dir = h->hier[0].dir;
                _cleanup_free_ char *f = xasprintf("%s/cgroup.freeze", dir);
                int r = write_file_at(AT_FDCWD, f, frozen ? "1" : "0");
                if (r < 0)
                        return util_syserr(err, -r, "write %s", f);
                for (int i = 0; i < 5000; i++) {
                        int v = -1;
                        r = v2_events_field(dir, "frozen", &v);
                        if (r < 0)
                                return util_syserr(err, -r, "read %s/cgroup.events", dir);
                        if (v == frozen)
                                return 0;
                        sleep_ms(1);
                }
                return husk_error_set(err, ETIMEDOUT, "cgroup %s did not %s in time", dir,
                                      frozen ? "freeze" : "thaw");
        }
        cg_hier *c = cgroup_find_hier(h, "freezer");
        if (!c)
                return husk_error_set(err, ENOTSUP, "the freezer cgroup controller is not mounted");
        _cleanup_free_ char *f = xasprintf("%s/freezer.state", c->dir);
        const char *want = frozen ? "FROZEN" : "THAWED";
        for (int i = 0; i < 5000; i++) {
                /* Writing again from time to time restarts a freeze that a fork raced with. */
                if (i % 100 == 0) {
                        int r = write_file_at(AT_FDCWD, f, want);
                        if (r < 0)
                                return util_syserr(err, -r, "write %s", f);
                }
                _cleanup_free_ char *cur = NULL;
                int r = read_file_at(AT_FDCWD, f, 64, &cur, NULL);
                if (r < 0)
                        return util_syserr(err, -r, "read %s", f);
                if (strncmp(cur, want, strlen(want)) == 0)
                        return 0;
                sleep_ms(1);
        }
        if (frozen)
                (void)write_file_at(AT_FDCWD, f, "THAWED"); /* do not leave it half frozen */
        return husk_error_set(err, ETIMEDOUT, "cgroup %s did not reach %s in time", c->dir, want);
}

int cgroup_is_frozen(cgroup_handle *h, bool *ret, husk_error_t *err)
{
        if (h->version == 2) {
                int v = 0;
                int r = v2_events_field(h->hier[0].dir, "frozen", &v);
                if (r < 0)
                        return util_syserr(err, -r, "read %s/cgroup.events", h->hier[0].dir);
                *ret = v == 1;
                return 0;
        }
        cg_hier *c = cgroup_find_hier(h, "freezer");
        if (!c) {
                *ret = false;
                return 0;
        }
        _cleanup_free_ char *f = xasprintf("%s/freezer.state", c->dir), *cur = NULL;
        int r = read_file_at(AT_FDCWD, f, 64, &cur, NULL);
        if (r < 0)
                return util_syserr(err, -r, "read %s", f);
        /* FREEZING counts as paused too: the processes are stopped or about to be */
        *ret = strncmp(cur, "THAWED", 6) != 0;
        return 0;
}

/* ---------------------------------------------------------------- destroy */

/* rmdir dir and every cgroup below it (made by the workload), deepest first. EBUSY while the
 * last processes are leaving is retried until the deadline, which the whole tree shares: a stuck
 * cgroup costs that much once, not once per level. */
static int rmdir_tree_until(const char *dir, int depth, uint64_t deadline)
{
        for (int attempt = 0;; attempt++) {
                _cleanup_closedir_ DIR *d = depth < 64 ? opendir(dir) : NULL;
                struct dirent *de;
                while (d && (de = readdir(d)))
                        if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
                            strcmp(de->d_name, "..") != 0) {
                                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                                (void)rmdir_tree_until(sub, depth + 1, deadline); /* the rmdir
                                                                                  below reports */
                        }
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                int e = errno;
                if ((e != EBUSY && e != ENOTEMPTY) || now_ns() >= deadline)
                        return -e;
                sleep_ms(attempt < 20 ? 1 : 10);
        }
}

static int rmdir_tree(const char *dir)
{
        return rmdir_tree_until(dir, 0, now_ns() + 2000000000ULL);
}

static bool empty(cgroup_handle *h)
{
        if (h->version == 2) {
                int v = 0;
                if (v2_events_field(h->hier[0].dir, "populated", &v) == 0)
                        return v == 0;
        }
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        cg_hier *c = procs_hier(h);
        return !c || read_pids(c->dir, &pids, &n) < 0 || n == 0;
}

static int kill_leftovers(cgroup_handle *h, husk_error_t *err)
{
        if (empty(h))
                return 0;
        _cleanup_free_ char *kf = h->version == 2 ? xasprintf("%s/cgroup.kill", h->hier[0].dir)
                                                  : NULL;
        for (int i = 0; i < 500; i++) {
                if (i % 50 == 0) {
                        /* v2.kill (kernel >= 5.14) kills the whole tree atomically */
                        if (!kf || write_file_at(AT_FDCWD, kf, "1") < 0) {
                                int r = cgroup_kill_all(h, SIGKILL, err);
                                if (r < 0)
                                        return r;
                        }
                }
                if (empty(h))
                        return 0;
                sleep_ms(i < 20 ? 1 : 10);
        }
        return husk_error_set(err, EBUSY, "processes in cgroup %s survived SIGKILL", h->path);
}

int cgroup_destroy(cgroup_handle *h, husk_error_t *err)
{
        if (h->preexisting_procs) {
                /* The cgroup held processes of others when the container was made in it: kill
                 * none of them (runc 1.1 leaves them too and only warns that the cgroup cannot
                 * be removed); remove what is empty. */
                int ret = 0;
                for (size_t i = 0; i < h->n_hier; i++) {
                        int r = rmdir_tree_until(h->hier[i].dir, 0, 0);
                        if (r < 0 && ret == 0)
                                ret = util_syserr(err, -r,
                                                  "cgroup %s was not empty when the container "
                                                  "was made in it; left in place",
                                                  h->hier[i].dir);
                }
                return ret;
        }
        int r = kill_leftovers(h, err);
        if (r < 0)
                return r;
        int ret = 0;
        for (size_t i = 0; i < h->n_hier; i++) {
                r = rmdir_tree(h->hier[i].dir);
                if (r < 0 && ret == 0)
                        ret = util_syserr(err, -r, "remove cgroup %s", h->hier[i].dir);
        }
        return ret;
}

/* ---------------------------------------------------------------- serialize */

/* "v1;c:4:1,b:8:*;/husk/ID": driver, linux.devices allow rules, path (last: it may hold ';').
 * A leading "shared" in the rule list: the cgroup held others' processes at create (see
 * cgroup_destroy). */
char *cgroup_serialize(const cgroup_handle *h)
{
        size_t cap = 24 + strlen(h->path) + h->n_dev_allow * 48;
        char *s = xmalloc(cap), *o = s;
        o += sprintf(o, "v%d;", h->version);
        if (h->preexisting_procs)
                o += sprintf(o, "shared%s", h->n_dev_allow ? "," : "");
        for (size_t i = 0; i < h->n_dev_allow; i++) {
                const config_device_rule *d = &h->dev_allow[i];
                char maj[24] = "*", min[24] = "*";
                if (d->major >= 0)
                        snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
                if (d->minor >= 0)
                        snprintf(min, sizeof(min), "%lld", (long long)d->minor);
                o += sprintf(o, "%s%c:%s:%s", i ? "," : "", d->type, maj, min);
        }
        sprintf(o, ";%s", h->path);
        return s;
}

static int parse_dev_num(const char *s, int64_t *ret)
{
        if (strcmp(s, "*") == 0) {
                *ret = -1;
                return 0;
        }
        return parse_int64(s, ret);
}

int cgroup_deserialize(const char *s, cgroup_handle **ret, husk_error_t *err)
{
#define bad "invalid saved cgroup state \"%s\""
        if (!s || s[0] != 'v' || (s[1] != '1' && s[1] != '2') || s[2] != ';')
                return husk_error_set(err, EINVAL, bad, s ? s : "");
        const char *devs = s + 3, *path = strchr(devs, ';');
        if (!path || path[1] != '/')
                return husk_error_set(err, EINVAL, bad, s);
        _cleanup_handle_ cgroup_handle *h = NULL;
        int r = handle_new(path + 1, s[1] - '0', &h, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *list = xstrndup(devs, (size_t)(path - devs));
        char *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (strcmp(t, "shared") == 0) {
                        h->preexisting_procs = 1;
                        continue;
                }
                char *c1 = strchr(t, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                config_device_rule d = { .allow = true, .type = t[0], .access = "rwm" };
                if (!c2 || c1 != t + 1)
                        return husk_error_set(err, EINVAL, bad, s);
                *c2 = '\0';
                if (parse_dev_num(c1 + 1, &d.major) < 0 || parse_dev_num(c2 + 1, &d.minor) < 0)
                        return husk_error_set(err, EINVAL, bad, s);
                h->dev_allow = xrealloc(h->dev_allow, (h->n_dev_allow + 1) * sizeof(d));
                h->dev_allow[h->n_dev_allow++] = d;
        }
        *ret = TAKE_PTR(h);
        return 0;
#undef bad
}

int cgroup_apply(cgroup_handle *h, const config_resources *r, husk_error_t *err)
{
        return cgroup_apply_resources(h, r, false, err);
}

/* ---------------------------------------------------------------- OOM kills */

int cgroup_oom_kills(cgroup_handle *h, uint64_t *ret)
{
        cg_hier *c = cgroup_find_hier(h, "memory");
        if (!c)
                return -ENOENT;
        /* v1: memory.oom_control "oom_kill N"; v2: memory.events "oom_kill N" */
        _cleanup_free_ char *text = NULL, *f = xasprintf(
                "%s/%s", c->dir, c->unified ? "memory.events" : "memory.oom_control");
        int r = read_file_at(AT_FDCWD, f, 65536, &text, NULL);
        if (r < 0)
                return r;
        char *k = strstr(text, "oom_kill ");
        if (!k)
                return -ENOENT;
        k += 9;
        k[strcspn(k, "\n")] = '\0';
        return parse_uint64(k, ret);
}

/* ---------------------------------------------------------------- orphan removal */

/* For `delete --force` of a container whose state is unreadable: its cgroup is most likely at
 * the default path. Only empty dirs are removed (rmdir, never a kill): with no state we cannot
 * tell whose processes a non-empty /husk/ID holds (the same id may live under another --root). */
int cgroup_remove_default_if_empty(const char *id, husk_error_t *err)
{
        _cleanup_free_ char *path = NULL;
        int r = cgroup_path_resolve(NULL, id, &path, err);
        if (r < 0)
                return r;
        _cleanup_handle_ cgroup_handle *h = NULL;
        if ((r = handle_new(path, 0, &h, err)) < 0)
                return r;
        int ret = 0;
        for (size_t i = 0; i < h->n_hier; i++) {
                r = rmdir_tree(h->hier[i].dir);
                if (r < 0 && ret == 0)
                        ret = util_syserr(err, -r, "remove cgroup %s", h->hier[i].dir);
        }
        return ret;
}
