/* SPDX-License-Identifier: Apache-2.0 */
/* Lifecycle commands that work from the saved state: state, list, kill; plus spec and id
 * validation. Host side only. create/start/run and delete (which also undoes what the layers
 * above made: image roots, networks) live in src/libhusk/process/. */
#include "cgroup/cgroup.h"
#include "config/oci_config.h"
#include "state/state.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define ID_MAX_LEN 1024

static const char *root_of(const husk_global_t *g)
{
        return g && g->root && g->root[0] ? g->root : state_default_root();
}

int husk_id_validate(const char *id, husk_error_t *err)
{
        if (!id || !id[0])
                return husk_error_set(err, EINVAL, "invalid container id \"\": it must not be empty");
        size_t len = strnlen(id, ID_MAX_LEN + 1);
        if (len > ID_MAX_LEN)
                return husk_error_set(err, EINVAL,
                                      "invalid container id \"%.32s...\": longer than %d characters",
                                      id, ID_MAX_LEN);
        if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return husk_error_set(err, EINVAL, "invalid container id \"%s\": \".\" and \"..\" are not allowed",
                                      id);
        for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
                if (*p == '/') {
                        _cleanup_free_ char *q = json_quote(id);
                        return husk_error_set(err, EINVAL,
                                              "invalid container id %s: it must not contain '/'", q);
                }
                if (*p < 0x20 || *p == 0x7f) {
                        /* Quote the id so the control character itself never reaches a terminal. */
                        _cleanup_free_ char *q = json_quote(id);
                        return husk_error_set(err, EINVAL,
                                              "invalid container id %s: it must not contain control characters",
                                              q);
                }
        }
        return 0;
}

/* Open ROOT/ID (locked or not) and load its state and status. */
static int load(const husk_global_t *g, const char *id, bool lock, int *ret_fd, husk_state **ret_s,
                husk_status_t *ret_status, husk_error_t *err)
{
        _cleanup_close_ int fd = -1;
        int r = husk_id_validate(id, err);
        if (r < 0)
                return r;
        r = lock ? state_dir_open(root_of(g), id, &fd, err) : state_dir_open_nolock(root_of(g), id, &fd, err);
        if (r < 0)
                return r;
        husk_state *s = NULL;
        r = state_load(fd, &s, err);
        if (r < 0)
                return r;
        r = state_status(fd, s, ret_status, err);
        if (r < 0) {
                state_free(s);
                return r;
        }
        *ret_s = s;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

int husk_state_json(const husk_global_t *g, const char *id, char **ret_json, husk_error_t *err)
{
        husk_state *s = NULL;
        husk_status_t st;
        int r = load(g, id, false, NULL, &s, &st, err);
        if (r < 0)
                return r;
        *ret_json = state_to_json(s, st, true);
        state_free(s);
        return 0;
}

/* ---------------- list ---------------- */

static char *owner_name(int rootfd, const char *id)
{
        struct stat st;
        if (fstatat(rootfd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return xstrdup("");
        struct passwd pw, *res = NULL;
        char buf[1024];
        if (getpwuid_r(st.st_uid, &pw, buf, sizeof(buf), &res) == 0 && res)
                return xstrdup(res->pw_name);
        return xasprintf("#%u", (unsigned)st.st_uid);
}

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const husk_list_entry *)a)->id, ((const husk_list_entry *)b)->id);
}

/* Collect the folder names under the root that can be state folders. */
static int list_ids(const char *root, char ***ret, size_t *ret_n, husk_error_t *err)
{
        _cleanup_closedir_ DIR *d = opendir(root);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = xcalloc(1, sizeof(char *));
                        *ret_n = 0;
                        return 0;
                }
                return util_syserr(err, errno, "open state root %s", root);
        }
        _cleanup_strv_ char **ids = xcalloc(1, sizeof(char *));
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (husk_id_validate(de->d_name, NULL) < 0)
                        continue;
                ids = xrealloc(ids, (n + 2) * sizeof(char *));
                ids[n++] = xstrdup(de->d_name);
                ids[n] = NULL;
        }
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

/* Load the container whose state folder is ROOT/name (no lock: read only). */
static int load_by_name(int rootfd, const char *name, husk_state **ret_s, husk_status_t *ret_st)
{
        husk_error_t ignored;
        char expect[STATE_DIR_NAME_SIZE];
        _cleanup_close_ int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        husk_state *s = NULL;
        int r = state_load(fd, &s, &ignored);
        if (r < 0)
                return r;
        state_dir_name(s->id, expect);
        /* A folder whose state names another id is not a container of this root. */
        if (strcmp(expect, name) != 0 || state_status(fd, s, ret_st, &ignored) < 0) {
                state_free(s);
                return -EINVAL;
        }
        *ret_s = s;
        return 0;
}

int husk_list(const husk_global_t *g, husk_list_entry **ret, size_t *ret_n, husk_error_t *err)
{
        const char *root = root_of(g);
        _cleanup_strv_ char **names = NULL;
        size_t n_names = 0, n = 0;
        int r = list_ids(root, &names, &n_names, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        husk_list_entry *e = xcalloc(n_names + 1, sizeof(*e));
        for (size_t i = 0; i < n_names && rootfd >= 0; i++) {
                husk_state *s = NULL;
                husk_status_t st;
                /* A container being created (no state yet) or removed meanwhile is not listed. */
                if (load_by_name(rootfd, names[i], &s, &st) < 0)
                        continue;
                e[n].id = xstrdup(s->id);
                e[n].pid = st == HUSK_STATUS_STOPPED ? 0 : s->pid;
                e[n].status = st;
                e[n].bundle = xstrdup(s->bundle);
                e[n].rootfs = xstrdup(s->rootfs ? s->rootfs : "");
                snprintf(e[n].created, sizeof(e[n].created), "%s", s->created);
                e[n].owner = owner_name(rootfd, names[i]);
                n++;
                state_free(s);
        }
        qsort(e, n, sizeof(*e), cmp_entry);
        *ret = e;
        *ret_n = n;
        return 0;
}

void husk_list_free(husk_list_entry *e, size_t n)
{
        if (!e)
                return;
        for (size_t i = 0; i < n; i++) {
                free(e[i].id);
                free(e[i].bundle);
                free(e[i].rootfs);
                free(e[i].owner);
        }
        free(e);
}

int husk_list_json(const husk_global_t *g, char **ret_json, husk_error_t *err)
{
        husk_list_entry *e = NULL;
        size_t n = 0;
        int r = husk_list(g, &e, &n, err);
        if (r < 0)
                return r;
        json_writer *w = json_writer_new(false);
        json_arr_begin(w);
        for (size_t i = 0; i < n; i++) {
                json_obj_begin(w);
                json_kv_str(w, "ociVersion", HUSK_OCI_VERSION);
                json_kv_str(w, "id", e[i].id);
                json_kv_int(w, "pid", e[i].pid);
                json_kv_str(w, "status", husk_status_name(e[i].status));
                json_kv_str(w, "bundle", e[i].bundle);
                json_kv_str(w, "rootfs", e[i].rootfs);
                json_kv_str(w, "created", e[i].created);
                json_kv_str(w, "owner", e[i].owner);
                json_obj_end(w);
        }
        json_arr_end(w);
        husk_list_free(e, n);
        *ret_json = json_writer_finish(w);
        return 0;
}

/* ---------------- signals ---------------- */

/* A pidfd for pid, checked against the saved start time (so a reused pid is never signalled).
 * Returns -ESRCH when the process is gone or is another one; -ENOSYS without pidfd support. */
static int pidfd_checked(pid_t pid, uint64_t start_time)
{
#ifdef SYS_pidfd_open
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -errno;
        /* pidfd_open does not take O_CLOEXEC: the fd is always close-on-exec (kernel rule). */
        if (!state_pid_alive(pid, start_time)) {
                close(fd);
                return -ESRCH;
        }
        return fd;
#else
        return -ENOSYS;
#endif
}

/* Signal the process pid if it is still the one with start_time. -ESRCH when it is gone. */
int state_signal_pid(pid_t pid, uint64_t start_time, int signo)
{
        _cleanup_close_ int fd = pidfd_checked(pid, start_time);
#ifdef SYS_pidfd_send_signal
        if (fd >= 0) {
                if (syscall(SYS_pidfd_send_signal, fd, signo, NULL, 0) < 0)
                        return -errno;
                return 0;
        }
#endif
        if (fd != -ENOSYS && fd < 0)
                return fd;
        if (!state_pid_alive(pid, start_time))
                return -ESRCH;
        if (kill(pid, signo) < 0)
                return -errno;
        return 0;
}

/* Wait until pid (with start_time) has exited; a zombie counts as exited. */
int state_wait_gone(pid_t pid, uint64_t start_time, int timeout_ms)
{
        _cleanup_close_ int fd = pidfd_checked(pid, start_time);
        if (fd == -ESRCH)
                return 0;
        if (fd >= 0) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r;
                do
                        r = poll(&p, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                if (r < 0)
                        return -errno;
                return r == 0 ? -ETIMEDOUT : 0;
        }
        for (int waited = 0; waited < timeout_ms; waited += 10) {
                if (!state_pid_alive(pid, start_time))
                        return 0;
                usleep(10000);
        }
        return -ETIMEDOUT;
}

static int open_cgroup(const husk_state *s, cgroup_handle **ret, husk_error_t *err)
{
        *ret = NULL;
        if (!s->cgroup || !s->cgroup[0])
                return 0;
        return cgroup_deserialize(s->cgroup, ret, err);
}

int husk_kill(const husk_global_t *g, const char *id, int signo, bool all, husk_error_t *err)
{
        _cleanup_close_ int fd = -1;
        husk_state *s = NULL;
        husk_status_t st;
        if (signo < 0 || signo >= NSIG)
                return husk_error_set(err, EINVAL, "invalid signal number %d", signo);
        int r = load(g, id, true, &fd, &s, &st, err);
        if (r < 0)
                return r;
        if (all) {
                /* Every process of the cgroup: needed when the container shares the host's pid
                 * namespace (killing init does not take the others down). */
                cgroup_handle *h = NULL;
                r = open_cgroup(s, &h, err);
                if (r >= 0 && h)
                        r = cgroup_kill_all(h, signo, err);
                else if (r >= 0 && st != HUSK_STATUS_STOPPED)
                        r = state_signal_pid(s->pid, s->pid_start_time, signo);
                cgroup_handle_free(h);
                if (r < 0 && r != -ESRCH && !err->msg[0])
                        util_syserr(err, r, "kill container %s", id);
                state_free(s);
                return r == -ESRCH ? 0 : r;
        }
        if (st == HUSK_STATUS_STOPPED || st == HUSK_STATUS_CREATING) {
                state_free(s);
                return husk_error_set(err, ESRCH, "container not running");
        }
        r = state_signal_pid(s->pid, s->pid_start_time, signo);
        state_free(s);
        if (r == -ESRCH)
                return husk_error_set(err, ESRCH, "container not running");
        if (r < 0)
                return util_syserr(err, r, "kill container %s with signal %d", id, signo);
        return 0;
}

/* ---------------- ps ---------------- */

int husk_ps(const husk_global_t *g, const char *id, pid_t **ret_pids, size_t *ret_n,
            husk_error_t *err)
{
        husk_state *s = NULL;
        husk_status_t st;
        int r = load(g, id, false, NULL, &s, &st, err);
        if (r < 0)
                return r;
        cgroup_handle *h = NULL;
        r = open_cgroup(s, &h, err);
        if (r >= 0 && h) {
                r = cgroup_pids(h, ret_pids, ret_n, err);
        } else if (r >= 0) {
                /* No cgroup recorded: the init process is all we know about. */
                bool alive = st != HUSK_STATUS_STOPPED && s->pid > 0;
                *ret_pids = xcalloc(1, sizeof(pid_t));
                (*ret_pids)[0] = s->pid;
                *ret_n = alive ? 1 : 0;
        }
        cgroup_handle_free(h);
        state_free(s);
        return r;
}

/* ---------------- spec ---------------- */

int husk_spec(const char *bundle, bool rootless, husk_error_t *err)
{
        const char *dir = bundle && bundle[0] ? bundle : ".";
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return util_syserr(err, errno, "open bundle %s", dir);
        _cleanup_free_ char *spec = config_default_spec(rootless);
        if (!spec)
                return husk_error_set(err, EINVAL, "no default spec available");
        _cleanup_close_ int fd = openat(dfd, "config.json",
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EEXIST)
                        return husk_error_set(err, EEXIST, "File config.json exists. Remove it first");
                return util_syserr(err, errno, "create %s/config.json", dir);
        }
        int r = write_all(fd, spec, strlen(spec));
        if (r >= 0 && spec[0] && spec[strlen(spec) - 1] != '\n')
                r = write_all(fd, "\n", 1);
        if (r < 0) {
                unlinkat(dfd, "config.json", 0);
                return util_syserr(err, r, "write %s/config.json", dir);
        }
        return 0;
}
