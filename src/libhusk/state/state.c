/* SPDX-License-Identifier: Apache-2.0 */
/* Container state under --root (see state.h). Host side only.
 * ROOT/ID/state.json is the OCI state document (minus "status", which is computed) plus husk's own
 * keys; it is replaced atomically and read back with the bounded reader of util/json.c. */
#include "state/state.h"
#include "cgroup/cgroup.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <limits.h>
#include "util/sha256.h"
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define STATE_MAX_SIZE (1024 * 1024)
#define STATE_REMOVE_MAX_DEPTH 16

const char *state_default_root(void)
{
        /* Real root: /run/husk whatever XDG_RUNTIME_DIR says (engines call with it set to "" or
         * to a user dir; neither may change the root). A user (or root in a user namespace, see
         * util_honor_runtime_dir): $XDG_RUNTIME_DIR/husk, as runc does. Without XDG_RUNTIME_DIR
         * the CLI refuses before it gets here (husk_default_root_check). */
        static char *user_root;
        if (!util_honor_runtime_dir())
                return "/run/husk";
        if (!user_root)
                user_root = xasprintf("%s/husk", util_runtime_dir());
        return user_root;
}

const char *husk_default_root(void)
{
        return state_default_root();
}

int husk_default_root_check(husk_error_t *err)
{
        if (geteuid() == 0 || util_runtime_dir())
                return 0;
        return husk_error_set(err, EINVAL,
                              "XDG_RUNTIME_DIR is not set: husk run by a user (uid %u) keeps its "
                              "state in $XDG_RUNTIME_DIR/husk; set it (e.g. /run/user/%u, owned "
                              "by you) or pass --root DIR",
                              (unsigned)geteuid(), (unsigned)geteuid());
}

/* Ids may be 1024 characters but a file name at most NAME_MAX (255). Ids up to
 * STATE_DIRECT_NAME_MAX name their dir directly; longer ones use a prefix of the id plus its
 * SHA-256, a name longer than STATE_DIRECT_NAME_MAX, so the two kinds can never collide. */
#define STATE_DIRECT_NAME_MAX 200
#define STATE_HASHED_PREFIX 140

void state_dir_name(const char *id, char buf[STATE_DIR_NAME_SIZE])
{
        size_t len = strlen(id);
        if (len <= STATE_DIRECT_NAME_MAX) {
                memcpy(buf, id, len + 1);
                return;
        }
        char hex[2 * SHA256_LEN + 1];
        sha256_hex(id, len, hex);
        memcpy(buf, id, STATE_HASHED_PREFIX);
        size_t n = STATE_HASHED_PREFIX;
        buf[n++] = '-';
        for (unsigned i = 0; hex[i] && n + 2 < STATE_DIR_NAME_SIZE; i += 2) {
                buf[n++] = hex[i];
                buf[n++] = hex[i + 1];
        }
        buf[n] = '\0';
}

/* After flock: the directory may have been removed (or replaced) while we waited for the lock.
 * The lock holder only releases it once ROOT/ID is gone, so compare inodes. */
static int check_still_linked(int rootfd, const char *id, int dirfd)
{
        struct stat a, b;
        if (fstat(dirfd, &a) < 0)
                return -errno;
        if (fstatat(rootfd, id, &b, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -ENOENT;
        return 0;
}

static int lock_dir(int fd, int op)
{
        while (flock(fd, op) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        return 0;
}

static int open_root(const char *root, bool create, int *ret, husk_error_t *err)
{
        if (create) {
                int r = mkdir_p(root, 0700);
                if (r < 0)
                        return util_syserr(err, r, "create state root %s", root);
        }
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT && !create)
                        return husk_error_set(err, ENOENT, "container does not exist");
                return util_syserr(err, errno, "open state root %s", root);
        }
        *ret = fd;
        return 0;
}

int state_dir_create(const char *root, const char *id, int *ret_dirfd, husk_error_t *err)
{
        int r = husk_id_validate(id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = -1;
        r = open_root(root, true, &rootfd, err);
        if (r < 0)
                return r;
        char name[STATE_DIR_NAME_SIZE];
        state_dir_name(id, name);
        if (mkdirat(rootfd, name, 0711) < 0) {
                if (errno == EEXIST)
                        return husk_error_set(err, EEXIST, "container with id %s already exists", id);
                return util_syserr(err, errno, "create state dir %s/%s", root, id);
        }
        _cleanup_close_ int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open state dir %s/%s", root, id);
        r = lock_dir(fd, LOCK_EX);
        if (r < 0)
                return util_syserr(err, r, "lock state dir %s/%s", root, id);
        /* A concurrent `delete --force` may have removed the empty dir between mkdir and flock. */
        r = check_still_linked(rootfd, name, fd);
        if (r < 0)
                return util_syserr(err, r, "state dir %s/%s removed while being created", root, id);
        *ret_dirfd = TAKE_FD(fd);
        return 0;
}

/* Validate id, open ROOT and ROOT/ID's folder (name in name). Returns 0, a negative errno with
 * err set, or 1 (err untouched) when only the folder is missing, so each caller words that case
 * itself. */
static int open_id_dir(const char *root, const char *id, char name[STATE_DIR_NAME_SIZE],
                       int *ret_rootfd, int *ret_fd, husk_error_t *err)
{
        int r = husk_id_validate(id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int rootfd = -1;
        r = open_root(root, false, &rootfd, err);
        if (r < 0)
                return r;
        state_dir_name(id, name);
        int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 1;
                return util_syserr(err, errno, "open state dir %s/%s", root, id);
        }
        *ret_rootfd = TAKE_FD(rootfd);
        *ret_fd = fd;
        return 0;
}

static int dir_open(const char *root, const char *id, bool lock, int *ret_dirfd, husk_error_t *err)
{
        _cleanup_close_ int rootfd = -1, fd = -1;
        char name[STATE_DIR_NAME_SIZE];
        int r = open_id_dir(root, id, name, &rootfd, &fd, err);
        if (r == 1)
                return husk_error_set(err, ENOENT, "container does not exist");
        if (r < 0)
                return r;
        if (lock) {
                r = lock_dir(fd, LOCK_EX);
                if (r < 0)
                        return util_syserr(err, r, "lock state dir %s/%s", root, id);
                /* Deleted by the command that held the lock before us. */
                r = check_still_linked(rootfd, name, fd);
                if (r == -ENOENT)
                        return husk_error_set(err, ENOENT, "container does not exist");
                if (r < 0)
                        return util_syserr(err, r, "state dir %s/%s", root, id);
        }
        *ret_dirfd = TAKE_FD(fd);
        return 0;
}

int state_dir_open(const char *root, const char *id, int *ret_dirfd, husk_error_t *err)
{
        return dir_open(root, id, true, ret_dirfd, err);
}

int state_dir_open_nolock(const char *root, const char *id, int *ret_dirfd, husk_error_t *err)
{
        return dir_open(root, id, false, ret_dirfd, err);
}

/* rm -r of dirfd's contents, never following symlinks. */
static int remove_contents(int dirfd, int depth)
{
        if (depth > STATE_REMOVE_MAX_DEPTH)
                return -ELOOP;
        int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dup);
        if (!d) {
                close(dup);
                return -errno;
        }
        int ret = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (unlinkat(dirfd, de->d_name, 0) == 0)
                        continue;
                if (errno != EISDIR && errno != EPERM) {
                        if (errno != ENOENT && !ret)
                                ret = -errno;
                        continue;
                }
                _cleanup_close_ int sub = openat(dirfd, de->d_name,
                                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        if (!ret)
                                ret = -errno;
                        continue;
                }
                int r = remove_contents(sub, depth + 1);
                if (r < 0 && !ret)
                        ret = r;
                if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && !ret)
                        ret = -errno;
        }
        return ret;
}

int state_dir_remove(const char *root, const char *id, husk_error_t *err)
{
        _cleanup_close_ int rootfd = -1, fd = -1;
        char name[STATE_DIR_NAME_SIZE];
        int r = open_id_dir(root, id, name, &rootfd, &fd, err);
        if (r == 1)
                return 0; /* already gone */
        if (r < 0)
                return r;
        r = remove_contents(fd, 0);
        if (r < 0)
                return util_syserr(err, r, "remove state dir %s/%s", root, id);
        if (unlinkat(rootfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return util_syserr(err, errno, "remove state dir %s/%s", root, id);
        return 0;
}

/* ---------------- state.json ---------------- */

static void write_common(json_writer *w, const husk_state *s, const char *status, pid_t pid)
{
        json_kv_str(w, "ociVersion", HUSK_OCI_VERSION);
        json_kv_str(w, "id", s->id);
        if (status)
                json_kv_str(w, "status", status);
        json_kv_int(w, "pid", pid);
        json_kv_str(w, "bundle", s->bundle ? s->bundle : "");
        json_kv_str(w, "rootfs", s->rootfs ? s->rootfs : "");
        json_kv_str(w, "created", s->created);
        if (s->n_annotations) {
                json_key(w, "annotations");
                json_obj_begin(w);
                for (size_t i = 0; i < s->n_annotations; i++)
                        json_kv_str(w, s->annotations[i].key,
                                    s->annotations[i].value ? s->annotations[i].value : "");
                json_obj_end(w);
        }
        json_kv_str(w, "owner", s->owner ? s->owner : "");
}

void state_write_json(json_writer *w, const husk_state *s, husk_status_t status)
{
        json_obj_begin(w);
        /* OCI: pid is only meaningful while the process exists (runc prints 0 when stopped). */
        write_common(w, s, husk_status_name(status), status == HUSK_STATUS_STOPPED ? 0 : s->pid);
        json_obj_end(w);
}

char *state_to_json(const husk_state *s, husk_status_t status, bool pretty)
{
        json_writer *w = json_writer_new(pretty);
        state_write_json(w, s, status);
        return json_writer_finish(w);
}

int state_save(int dirfd, const husk_state *s, husk_error_t *err)
{
        if (!s->id || !s->bundle || !s->rootfs)
                return husk_error_set(err, EINVAL, "save state: id, bundle and rootfs are required");
        json_writer *w = json_writer_new(true);
        json_obj_begin(w);
        write_common(w, s, NULL, s->pid);
        json_kv_uint(w, "pidStartTime", s->pid_start_time);
        json_kv_str(w, "cgroup", s->cgroup);
        json_kv_bool(w, "newPidns", s->new_pidns);
        json_kv_bool(w, "hasPoststop", s->has_poststop);
        json_kv_str(w, "configPath", s->config_path);
        json_kv_bool(w, "terminal", s->terminal);
        json_key(w, "startPhaseNs");
        json_arr_begin(w);
        for (size_t i = 0; i < ARRAY_SIZE(s->start_phase_ns); i++)
                json_uint(w, s->start_phase_ns[i]);
        json_arr_end(w);
        json_obj_end(w);
        _cleanup_free_ char *doc = json_writer_finish(w);
        int r = write_file_atomic_at(dirfd, STATE_FILE_NAME, doc, strlen(doc), 0600);
        if (r < 0)
                return util_syserr(err, r, "write state of container %s", s->id);
        return 0;
}

static int get_string(const json_value *v, const char *key, bool required, char **ret,
                      husk_error_t *err)
{
        const json_value *m = json_get(v, key);
        if (!m || m->type == JSON_NULL) {
                if (required)
                        return husk_error_set(err, EINVAL, "state.json: missing \"%s\"", key);
                *ret = NULL;
                return 0;
        }
        if (m->type != JSON_STRING)
                return husk_error_set(err, EINVAL, "state.json: \"%s\" must be a string", key);
        *ret = xstrdup(m->str);
        return 0;
}

static int get_uint(const json_value *v, const char *key, uint64_t max, uint64_t *ret,
                    husk_error_t *err)
{
        const json_value *m = json_get(v, key);
        uint64_t u = 0;
        if (!m) {
                *ret = 0;
                return 0;
        }
        if (m->type != JSON_NUMBER || parse_uint64(m->str, &u) < 0 || u > max)
                return husk_error_set(err, EINVAL, "state.json: \"%s\" must be an integer in 0..%llu",
                                      key, (unsigned long long)max);
        *ret = u;
        return 0;
}

static bool get_bool(const json_value *v, const char *key)
{
        const json_value *m = json_get(v, key);
        return m && m->type == JSON_BOOL && m->boolean;
}

static int load_annotations(const json_value *v, husk_state *s, husk_error_t *err)
{
        const json_value *a = json_get(v, "annotations");
        if (!a || a->type == JSON_NULL)
                return 0;
        if (a->type != JSON_OBJECT)
                return husk_error_set(err, EINVAL, "state.json: \"annotations\" must be an object");
        s->annotations = xcalloc(a->n, sizeof(config_kv));
        for (size_t i = 0; i < a->n; i++) {
                if (a->items[i]->type != JSON_STRING)
                        return husk_error_set(err, EINVAL,
                                              "state.json: annotation \"%s\" must be a string",
                                              a->keys[i]);
                s->annotations[i].key = xstrdup(a->keys[i]);
                s->annotations[i].value = xstrdup(a->items[i]->str);
                s->n_annotations++;
        }
        return 0;
}

static int load_fields(const json_value *v, husk_state *s, husk_error_t *err)
{
        _cleanup_free_ char *created = NULL;
        uint64_t pid = 0;
        int r;
        if (v->type != JSON_OBJECT)
                return husk_error_set(err, EINVAL, "state.json: not an object");
        if ((r = get_string(v, "id", true, &s->id, err)) < 0 ||
            (r = get_string(v, "bundle", true, &s->bundle, err)) < 0 ||
            (r = get_string(v, "rootfs", true, &s->rootfs, err)) < 0 ||
            (r = get_string(v, "created", false, &created, err)) < 0 ||
            (r = get_string(v, "owner", false, &s->owner, err)) < 0 ||
            (r = get_string(v, "cgroup", false, &s->cgroup, err)) < 0 ||
            (r = get_string(v, "configPath", false, &s->config_path, err)) < 0 ||
            (r = get_uint(v, "pid", INT_MAX, &pid, err)) < 0 ||
            (r = get_uint(v, "pidStartTime", UINT64_MAX, &s->pid_start_time, err)) < 0)
                return r;
        if (husk_id_validate(s->id, NULL) < 0)
                return husk_error_set(err, EINVAL, "state.json: invalid id");
        s->pid = (pid_t)pid;
        if (created)
                snprintf(s->created, sizeof(s->created), "%s", created);
        if (!s->owner)
                s->owner = xstrdup("");
        s->new_pidns = get_bool(v, "newPidns");
        s->has_poststop = get_bool(v, "hasPoststop");
        s->terminal = get_bool(v, "terminal");
        const json_value *ph = json_get(v, "startPhaseNs");
        if (ph && ph->type == JSON_ARRAY)
                for (size_t i = 0; i < ph->n && i < ARRAY_SIZE(s->start_phase_ns); i++)
                        if (ph->items[i]->type == JSON_NUMBER)
                                (void)parse_uint64(ph->items[i]->str, &s->start_phase_ns[i]);
        return load_annotations(v, s, err);
}

int state_load(int dirfd, husk_state **ret, husk_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(dirfd, STATE_FILE_NAME, STATE_MAX_SIZE, &text, &len);
        if (r == -ENOENT)
                return husk_error_set(err, ENOENT, "container state not saved yet (being created)");
        if (r < 0)
                return util_syserr(err, r, "read %s", STATE_FILE_NAME);
        json_value *v = NULL;
        char why[128];
        if (json_parse(text, len, &v, why, sizeof(why)) < 0)
                return husk_error_set(err, EINVAL, "state.json: %s", why);
        husk_state *s = xcalloc(1, sizeof(*s));
        r = load_fields(v, s, err);
        json_value_free(v);
        if (r < 0) {
                state_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void state_free(husk_state *s)
{
        if (!s)
                return;
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->owner);
        for (size_t i = 0; i < s->n_annotations; i++) {
                free(s->annotations[i].key);
                free(s->annotations[i].value);
        }
        free(s->annotations);
        free(s->cgroup);
        free(s->config_path);
        free(s);
}

/* ---------------- teardown record ---------------- */

int state_record_save(int dirfd, const char *id, const state_record *r, husk_error_t *err)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "id", id);
        if (r->cgroup)
                json_kv_str(w, "cgroup", r->cgroup);
        if (r->image_container)
                json_kv_str(w, "imageContainer", r->image_container);
        json_obj_end(w);
        _cleanup_free_ char *doc = json_writer_finish(w);
        int e = write_file_atomic_at(dirfd, STATE_RECORD_NAME, doc, strlen(doc), 0600);
        if (e < 0)
                return util_syserr(err, e, "write the teardown record of container %s", id);
        return 0;
}

int state_record_load(int dirfd, state_record *ret, husk_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(dirfd, STATE_RECORD_NAME, STATE_MAX_SIZE, &text, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return util_syserr(err, r, "read %s", STATE_RECORD_NAME);
        json_value *v = NULL;
        char why[128];
        if (json_parse(text, len, &v, why, sizeof(why)) < 0)
                return husk_error_set(err, EINVAL, "%s: %s", STATE_RECORD_NAME, why);
        const char *cg = json_get_str(v, "cgroup"), *ic = json_get_str(v, "imageContainer");
        *ret = (state_record){ .cgroup = cg ? xstrdup(cg) : NULL,
                               .image_container = ic ? xstrdup(ic) : NULL };
        json_value_free(v);
        return 0;
}

void state_record_done(state_record *r)
{
        free(r->cgroup);
        free(r->image_container);
        *r = (state_record){ 0 };
}

bool state_dir_busy(const char *root, const char *id)
{
        _cleanup_close_ int rootfd = -1, fd = -1;
        char name[STATE_DIR_NAME_SIZE];
        if (open_id_dir(root, id, name, &rootfd, &fd, NULL) != 0)
                return false;
        return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* ---------------- status ---------------- */

/* Reads /proc/PID/stat: the state letter (field 3) and the start time (field 22). */
int state_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_start)
{
        if (pid <= 0)
                return -ESRCH;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        _cleanup_free_ char *buf = NULL;
        int r = read_file_at(AT_FDCWD, path, 8192, &buf, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* comm may contain spaces and ')': the fields start after the last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ' || !p[2])
                return -EINVAL;
        p += 2;
        char st = *p;
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EINVAL;
                p++;
        }
        char *end = strchr(p, ' ');
        if (end)
                *end = '\0';
        uint64_t start = 0;
        if (parse_uint64(p, &start) < 0)
                return -EINVAL;
        if (ret_state)
                *ret_state = st;
        if (ret_start)
                *ret_start = start;
        return 0;
}

uint64_t state_proc_start_time(pid_t pid)
{
        uint64_t t = 0;
        if (state_proc_stat(pid, NULL, &t) < 0)
                return 0;
        return t;
}

bool state_pid_alive(pid_t pid, uint64_t start_time)
{
        char st = 0;
        uint64_t t = 0;
        if (state_proc_stat(pid, &st, &t) < 0)
                return false;
        /* A zombie has exited: only its parent's wait is missing (an engine's reaper does it). */
        if (st == 'Z' || st == 'X')
                return false;
        /* The pid was reused by another process. */
        if (start_time && t != start_time)
                return false;
        return true;
}

int state_status(int dirfd, const husk_state *s, husk_status_t *ret, husk_error_t *err)
{
        bool fifo = faccessat(dirfd, STATE_FIFO_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        if (s->pid <= 0) {
                *ret = fifo ? HUSK_STATUS_CREATING : HUSK_STATUS_STOPPED;
                return 0;
        }
        if (!state_pid_alive(s->pid, s->pid_start_time)) {
                *ret = HUSK_STATUS_STOPPED;
                return 0;
        }
        if (fifo) {
                *ret = HUSK_STATUS_CREATED;
                return 0;
        }
        if (s->cgroup && s->cgroup[0]) {
                cgroup_handle *h = NULL;
                bool frozen = false;
                int r = cgroup_deserialize(s->cgroup, &h, err);
                if (r < 0)
                        return r;
                r = cgroup_is_frozen(h, &frozen, err);
                cgroup_handle_free(h);
                if (r < 0)
                        return r;
                if (frozen) {
                        *ret = HUSK_STATUS_PAUSED;
                        return 0;
                }
        }
        *ret = HUSK_STATUS_RUNNING;
        return 0;
}
