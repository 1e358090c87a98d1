/* SPDX-License-Identifier: Apache-2.0 */
/* The records of a detached service (service.json, monitor.json, exit.json, the net helper's
 * network.json, the bundle's config.json), name lookup, status, and the JSON of `ps` and
 * `inspect`. Host side, read only except svc_write_monitor. */
#include "husk/image.h"
#include "service/service.h"
#include "state/state.h"
#include "util/json.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define RECORD_MAX (1u << 20)

char *svc_store_path(const char *store)
{
        husk_image_opts_t io = { .store = store };
        const char *p = husk_image_store_path(&io);
        char *abs = realpath(p, NULL);
        return abs ? abs : xstrdup(p);
}

static bool prefix_ok(const char *name)
{
        return strlen(name) >= 4 && strspn(name, "0123456789abcdef") == strlen(name);
}

/* A unique generated id starting with name. */
static int find_prefix(int cfd, const char *name, char **ret, husk_error_t *err)
{
        _cleanup_closedir_ DIR *d = fdopendir(dup(cfd));
        if (!d)
                return util_syserr(err, errno, "list containers");
        _cleanup_free_ char *found = NULL;
        struct dirent *de;
        size_t n = strlen(name);
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, name, n) != 0 || strlen(de->d_name) != 16 ||
                    strspn(de->d_name, "0123456789abcdef") != 16)
                        continue;
                if (found)
                        return husk_error_set(err, EINVAL, "more than one container starts with "
                                              "\"%s\": give more of its id", name);
                found = xstrdup(de->d_name);
        }
        if (!found)
                return husk_error_set(err, ENOENT, "no container with name or id \"%s\"", name);
        *ret = TAKE_PTR(found);
        return 0;
}

int svc_resolve(const char *store, const char *name, char **ret_id, int *ret_dirfd,
                husk_error_t *err)
{
        int r = husk_id_validate(name, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *sp = svc_store_path(store);
        _cleanup_free_ char *cdir = xasprintf("%s/containers", sp);
        _cleanup_close_ int cfd = open(cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cfd < 0 && errno != ENOENT)
                return util_syserr(err, errno, "open %s", cdir);
        if (cfd < 0)
                return husk_error_set(err, ENOENT, "no container with name or id \"%s\"", name);
        _cleanup_free_ char *id = xstrdup(name);
        int fd = openat(cfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && prefix_ok(name)) {
                free(id);
                id = NULL;
                if ((r = find_prefix(cfd, name, &id, err)) < 0)
                        return r;
                fd = openat(cfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0 && errno == ENOENT)
                return husk_error_set(err, ENOENT, "no container with name or id \"%s\"", name);
        if (fd < 0)
                return util_syserr(err, errno, "open container %s", id);
        if (faccessat(fd, SVC_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                close(fd);
                return husk_error_set(err, ENOENT, "container \"%s\" was not started with "
                                      "husk run -d", id);
        }
        *ret_id = TAKE_PTR(id);
        *ret_dirfd = fd;
        return 0;
}

static int load_json(int dirfd, const char *name, json_value **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file_at(dirfd, name, RECORD_MAX, &text, &len);
        if (r < 0)
                return r;
        char eb[128];
        return json_parse(text, len, ret, eb, sizeof(eb));
}

static int64_t get_int(const json_value *v, const char *key, int64_t dflt)
{
        const json_value *m = json_get(v, key);
        int64_t x;
        /* numbers, or numbers written as strings (a port may come either way) */
        if (!m || (m->type != JSON_NUMBER && m->type != JSON_STRING) || parse_int64(m->str, &x) < 0)
                return dflt;
        return x;
}

static bool get_bool(const json_value *v, const char *key)
{
        const json_value *m = json_get(v, key);
        return m && m->type == JSON_BOOL && m->boolean;
}

static int64_t get_time(const json_value *v, const char *key)
{
        const char *s = json_get_str(v, key);
        int64_t t;
        return s && svc_time_parse(s, &t) == 0 ? t : 0;
}

static char *dup_str(const json_value *v, const char *key)
{
        const char *s = json_get_str(v, key);
        return s ? xstrdup(s) : NULL;
}

static char **get_strv(const json_value *v, const char *key)
{
        const json_value *a = json_get(v, key);
        char **out = xcalloc((a && a->type == JSON_ARRAY ? a->n : 0) + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; a && a->type == JSON_ARRAY && i < a->n; i++)
                if (a->items[i]->type == JSON_STRING)
                        out[n++] = xstrdup(a->items[i]->str);
        return out;
}

bool svc_monitor_alive(int dirfd, pid_t *ret_pid, uint64_t *ret_start)
{
        json_value *m = NULL;
        if (load_json(dirfd, SVC_MONITOR_FILE, &m) < 0)
                return false;
        pid_t pid = (pid_t)get_int(m, "pid", 0);
        uint64_t start = (uint64_t)get_int(m, "pidStart", 0);
        json_value_free(m);
        if (ret_pid)
                *ret_pid = pid;
        if (ret_start)
                *ret_start = start;
        return pid > 0 && start > 0 && state_pid_alive(pid, start);
}

int svc_write_monitor(int dirfd, const char *phase, int64_t started, unsigned restarts,
                      pid_t ctr_pid)
{
        char t[48] = "";
        if (started)
                svc_time_format(started, t, sizeof(t));
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_int(w, "pid", getpid());
        json_kv_uint(w, "pidStart", state_proc_start_time(getpid()));
        json_kv_str(w, "phase", phase);
        json_kv_str(w, "startedAt", t);
        json_kv_uint(w, "restarts", restarts);
        json_kv_int(w, "containerPid", ctr_pid);
        json_obj_end(w);
        _cleanup_free_ char *text = json_writer_finish(w);
        return write_file_atomic_at(dirfd, SVC_MONITOR_FILE, text, strlen(text), 0600) < 0 ? -errno
                                                                                             : 0;
}

void husk_service_info_done(husk_service_info_t *i)
{
        free(i->id);
        free(i->bundle);
        free(i->root);
        free(i->store);
        free(i->image_ref);
        free(i->image_id);
        strv_free(i->command);
        strv_free(i->env);
        free(i->cwd);
        free(i->user);
        free(i->hostname);
        free(i->stop_signal);
        free(i->restart);
        strv_free(i->ports);
        free(i->network_json);
        free(i->log_path);
        *i = (husk_service_info_t){ 0 };
}

char **svc_config_args(int dirfd)
{
        json_value *c = NULL;
        if (load_json(dirfd, "config.json", &c) < 0)
                return xcalloc(1, sizeof(char *));
        char **v = get_strv(json_get(c, "process"), "args");
        json_value_free(c);
        return v;
}

/* What config.json says about the process (args, env, cwd, user, hostname, StopSignal). */
static void load_config(int dirfd, husk_service_info_t *i)
{
        json_value *c = NULL;
        if (load_json(dirfd, "config.json", &c) < 0) {
                i->command = xcalloc(1, sizeof(char *));
                i->env = xcalloc(1, sizeof(char *));
                return;
        }
        const json_value *p = json_get(c, "process");
        i->command = get_strv(p, "args");
        i->env = get_strv(p, "env");
        i->cwd = dup_str(p, "cwd");
        const json_value *u = json_get(p, "user");
        if (u)
                i->user = xasprintf("%lld:%lld", (long long)get_int(u, "uid", 0),
                                    (long long)get_int(u, "gid", 0));
        i->hostname = dup_str(c, "hostname");
        i->stop_signal = dup_str(json_get(c, "annotations"), "org.opencontainers.image.stopSignal");
        json_value_free(c);
}

/* The OCI state of the container under its root: status and pid (false when there is none). */
static bool oci_status(const char *root, const char *id, husk_status_t *ret, pid_t *ret_pid)
{
        _cleanup_close_ int fd = -1;
        husk_error_t e = { 0 };
        husk_state *s = NULL;
        if (state_dir_open_nolock(root, id, &fd, &e) < 0 || state_load(fd, &s, &e) < 0)
                return false;
        bool ok = state_status(fd, s, ret, &e) == 0;
        *ret_pid = s->pid;
        state_free(s);
        return ok;
}

static void derive_status(int dirfd, husk_service_info_t *i)
{
        json_value *m = NULL;
        bool has_monitor = load_json(dirfd, SVC_MONITOR_FILE, &m) == 0;
        pid_t mpid = (pid_t)get_int(m, "pid", 0);
        uint64_t mstart = (uint64_t)get_int(m, "pidStart", 0);
        const char *phase = json_get_str(m, "phase");
        i->monitor_alive = mpid > 0 && mstart > 0 && state_pid_alive(mpid, mstart);
        i->started = get_time(m, "startedAt");
        if (i->monitor_alive)
                i->restarts = (unsigned)get_int(m, "restarts", 0);
        husk_status_t st;
        pid_t pid = 0;
        bool oci = oci_status(i->root, i->id, &st, &pid);
        bool up = oci && (st == HUSK_STATUS_RUNNING || st == HUSK_STATUS_PAUSED);
        if (up) {
                /* Running (also when its monitor was killed: the workload does not care). */
                i->status = st == HUSK_STATUS_PAUSED ? HUSK_SERVICE_PAUSED : HUSK_SERVICE_RUNNING;
                if (i->monitor_alive && phase && strcmp(phase, "stopping") == 0)
                        i->status = HUSK_SERVICE_STOPPING;
                i->pid = pid;
        } else if (i->monitor_alive && phase && strcmp(phase, "restarting") == 0) {
                i->status = HUSK_SERVICE_RESTARTING;
        } else if (i->monitor_alive && phase && strcmp(phase, "exited") != 0) {
                /* starting, or between the exit and its record */
                i->status = strcmp(phase, "starting") != 0 ? HUSK_SERVICE_STOPPING
                            : i->restarts ? HUSK_SERVICE_RESTARTING
                                          : HUSK_SERVICE_CREATED;
        } else {
                i->status = has_monitor ? HUSK_SERVICE_EXITED : HUSK_SERVICE_CREATED;
        }
        json_value_free(m);
}

static void load_exit(int dirfd, husk_service_info_t *i)
{
        json_value *x = NULL;
        i->exit_code = -1;
        if (load_json(dirfd, SVC_EXIT_FILE, &x) < 0)
                return;
        i->has_exit = true;
        i->exit_code = (int)get_int(x, "exitCode", -1);
        i->signal = (int)get_int(x, "signal", 0);
        i->finished = get_time(x, "finishedAt");
        i->oom_killed = get_bool(x, "oomKilled");
        if (!i->monitor_alive)
                i->restarts = (unsigned)get_int(x, "restarts", 0);
        json_value_free(x);
}

int svc_record_load(int dirfd, const char *store, const char *id, husk_service_info_t *ret,
                    husk_error_t *err)
{
        json_value *s = NULL;
        int r = load_json(dirfd, SVC_FILE, &s);
        if (r < 0)
                return r == -EINVAL ? husk_error_set(err, EINVAL, "container %s: %s is not valid "
                                                     "JSON", id, SVC_FILE)
                                    : util_syserr(err, -r, "container %s: read %s", id, SVC_FILE);
        husk_service_info_t i = { 0 };
        i.id = xstrdup(id);
        i.store = svc_store_path(store);
        i.bundle = xasprintf("%s/containers/%s", i.store, id);
        i.root = dup_str(s, "root");
        if (!i.root)
                i.root = xstrdup(state_default_root());
        i.image_ref = dup_str(s, "imageRef");
        i.image_id = dup_str(s, "imageId");
        i.restart = dup_str(s, "restart");
        svc_policy p = { 0 };
        if (svc_policy_parse(i.restart, &p, NULL) == 0)
                i.restart_max = p.max;
        i.ports = get_strv(s, "ports");
        i.created = get_time(s, "created");
        i.auto_remove = get_bool(s, "autoRemove");
        i.name_given = get_bool(s, "nameGiven");
        i.log_max_size = (uint64_t)get_int(s, "logMaxSize", SVC_LOG_MAX_DEFAULT);
        i.log_path = xasprintf("%s/%s", i.bundle, SVC_LOG_FILE);
        json_value_free(s);
        *ret = i;
        return 0;
}

int svc_info_load(int dirfd, const char *store, const char *id, husk_service_info_t *ret,
                  husk_error_t *err)
{
        husk_service_info_t i = { 0 };
        int r = svc_record_load(dirfd, store, id, &i, err);
        if (r < 0)
                return r;
        load_config(dirfd, &i);
        derive_status(dirfd, &i);
        load_exit(dirfd, &i);
        _cleanup_free_ char *net = NULL;
        if (read_file_at(dirfd, "network.json", RECORD_MAX, &net, NULL) == 0)
                i.network_json = TAKE_PTR(net);
        *ret = i;
        return 0;
}

void svc_global_for(const husk_global_t *caller, const husk_service_info_t *i, husk_global_t *ret)
{
        *ret = caller ? *caller : (husk_global_t){ 0 };
        ret->root = i->root;
}

int husk_service_get(const char *store, const char *name, husk_service_info_t *ret,
                     husk_error_t *err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int fd = -1;
        int r = svc_resolve(store, name, &id, &fd, err);
        if (r < 0)
                return r;
        return svc_info_load(fd, store, id, ret, err);
}

static int cmp_created(const void *a, const void *b)
{
        const husk_service_info_t *x = a, *y = b;
        return x->created > y->created ? -1 : x->created < y->created;
}

int husk_service_list(const char *store, husk_service_info_t **ret, size_t *ret_n,
                      husk_error_t *err)
{
        _cleanup_free_ char *sp = svc_store_path(store);
        _cleanup_free_ char *cdir = xasprintf("%s/containers", sp);
        husk_service_info_t *v = xcalloc(1, sizeof(*v));
        size_t n = 0;
        _cleanup_closedir_ DIR *d = opendir(cdir);
        if (!d && errno != ENOENT) {
                free(v);
                return util_syserr(err, errno, "open %s", cdir);
        }
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_close_ int fd = openat(dirfd(d), de->d_name,
                                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                husk_service_info_t i;
                husk_error_t ignored; /* a container removed meanwhile is simply not listed */
                if (fd < 0 || faccessat(fd, SVC_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0 ||
                    svc_info_load(fd, store, de->d_name, &i, &ignored) < 0)
                        continue;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = i;
        }
        qsort(v, n, sizeof(*v), cmp_created);
        *ret = v;
        *ret_n = n;
        return 0;
}

void husk_service_list_free(husk_service_info_t *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                husk_service_info_done(&v[i]);
        free(v);
}

const char *husk_service_status_name(husk_service_status_t s)
{
        static const char *const names[] = { "created", "running", "paused", "restarting",
                                             "stopping", "exited" };
        return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

void husk_service_status_text(const husk_service_info_t *i, char *buf, size_t len)
{
        svc_status_text(i, svc_now(), buf, len);
}

void husk_service_age_text(int64_t t, char *buf, size_t len)
{
        svc_human_duration(svc_now() - t, buf, len);
}

/* The published ports: network.json's when the net helper wrote it, else the -p values. */
typedef struct port {
        char *ip, *proto;
        long host, ctr;
} port_t;

static size_t ports_of(const husk_service_info_t *i, port_t **ret)
{
        port_t *v = NULL;
        size_t n = 0;
        json_value *net = NULL;
        char eb[64];
        if (i->network_json && json_parse(i->network_json, strlen(i->network_json), &net, eb,
                                          sizeof(eb)) == 0) {
                const json_value *a = json_get(net, "ports");
                for (size_t k = 0; a && a->type == JSON_ARRAY && k < a->n; k++) {
                        const json_value *p = a->items[k];
                        const char *ip = json_get_str(p, "hostIP");
                        const char *pr = json_get_str(p, "protocol");
                        v = xrealloc(v, (n + 1) * sizeof(*v));
                        v[n++] = (port_t){ .ip = xstrdup(ip && *ip ? ip : "0.0.0.0"),
                                           .proto = xstrdup(pr && *pr ? pr : "tcp"),
                                           .host = (long)get_int(p, "hostPort", 0),
                                           .ctr = (long)get_int(p, "containerPort", 0) };
                }
                json_value_free(net);
                if (n || a)
                        goto out;
        }
        for (size_t k = 0; i->ports && i->ports[k]; k++) {
                _cleanup_free_ char *t = svc_port_text(i->ports[k]);
                char ip[64], proto[16];
                long h, c;
                /* "IP:HOST->CTR/PROTO" as svc_port_text wrote it */
                char *arrow = t ? strstr(t, "->") : NULL;
                char *colon = arrow ? memrchr(t, ':', (size_t)(arrow - t)) : NULL;
                if (!colon || (size_t)(colon - t) >= sizeof(ip) ||
                    sscanf(colon + 1, "%ld->%ld/%15s", &h, &c, proto) != 3)
                        continue;
                memcpy(ip, t, (size_t)(colon - t));
                ip[colon - t] = '\0';
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = (port_t){ .ip = xstrdup(ip), .proto = xstrdup(proto), .host = h, .ctr = c };
        }
out:
        *ret = v;
        return n;
}

static void ports_free(port_t *v, size_t n)
{
        for (size_t k = 0; k < n; k++) {
                free(v[k].ip);
                free(v[k].proto);
        }
        free(v);
}

/* The last exit's code while the service is not running (exited, or waiting to restart); 0 while
 * it runs again after a restart, as podman shows it. */
static int exit_code_shown(const husk_service_info_t *i)
{
        if (!i->has_exit || (i->status != HUSK_SERVICE_EXITED && i->status != HUSK_SERVICE_RESTARTING))
                return 0;
        return i->exit_code;
}

char *husk_service_ports_text(const husk_service_info_t *i)
{
        port_t *v = NULL;
        /* An exited service publishes nothing: its rules went with its network (podman). */
        if (i->status == HUSK_SERVICE_EXITED)
                return xstrdup("");
        size_t n = ports_of(i, &v);
        char *out = xstrdup("");
        for (size_t k = 0; k < n; k++) {
                char *o = xasprintf("%s%s%s:%ld->%ld/%s", out, k ? ", " : "", v[k].ip, v[k].host,
                                    v[k].ctr, v[k].proto);
                free(out);
                out = o;
        }
        ports_free(v, n);
        return out;
}

static void kv_time(json_writer *w, const char *key, int64_t t)
{
        char buf[48] = "0001-01-01T00:00:00Z";
        if (t)
                svc_time_format(t, buf, sizeof(buf));
        json_kv_str(w, key, buf);
}

static void kv_strv(json_writer *w, const char *key, char *const *v)
{
        json_key(w, key);
        json_arr_begin(w);
        for (size_t k = 0; v && v[k]; k++)
                json_str(w, v[k]);
        json_arr_end(w);
}

/* The container's address (without the prefix length) and gateway from network.json. */
static void net_addr(const husk_service_info_t *i, char **ret_ip, char **ret_gw, char **ret_mac)
{
        json_value *net = NULL;
        char eb[64];
        *ret_ip = *ret_gw = *ret_mac = NULL;
        if (!i->network_json ||
            json_parse(i->network_json, strlen(i->network_json), &net, eb, sizeof(eb)) < 0)
                return;
        const json_value *ips = json_get(net, "ips");
        if (ips && ips->type == JSON_ARRAY && ips->n && ips->items[0]->type == JSON_STRING)
                *ret_ip = xstrndup(ips->items[0]->str, strcspn(ips->items[0]->str, "/"));
        *ret_gw = dup_str(net, "gateway");
        *ret_mac = dup_str(net, "mac");
        json_value_free(net);
}

static void write_inspect(json_writer *w, const husk_service_info_t *i)
{
        json_obj_begin(w);
        json_kv_str(w, "Id", i->id);
        json_kv_str(w, "Name", i->id);
        kv_time(w, "Created", i->created);
        json_kv_str(w, "Path", i->command && i->command[0] ? i->command[0] : "");
        kv_strv(w, "Args", i->command && i->command[0] ? i->command + 1 : NULL);
        json_kv_str(w, "Image", i->image_id);
        json_kv_str(w, "ImageName", i->image_ref);
        json_key(w, "State");
        json_obj_begin(w);
        json_kv_str(w, "Status", husk_service_status_name(i->status));
        json_kv_bool(w, "Running", i->status == HUSK_SERVICE_RUNNING ||
                                           i->status == HUSK_SERVICE_PAUSED ||
                                           i->status == HUSK_SERVICE_STOPPING);
        json_kv_bool(w, "Paused", i->status == HUSK_SERVICE_PAUSED);
        json_kv_bool(w, "Restarting", i->status == HUSK_SERVICE_RESTARTING);
        json_kv_bool(w, "OOMKilled", i->oom_killed);
        json_kv_int(w, "Pid", i->pid);
        json_kv_int(w, "ExitCode", exit_code_shown(i));
        json_kv_int(w, "Signal", i->signal);
        kv_time(w, "StartedAt", i->started);
        kv_time(w, "FinishedAt", i->finished);
        json_kv_uint(w, "Restarts", i->restarts);
        json_kv_bool(w, "MonitorAlive", i->monitor_alive);
        json_obj_end(w);
        json_key(w, "Config");
        json_obj_begin(w);
        json_kv_str(w, "Hostname", i->hostname);
        json_kv_str(w, "User", i->user);
        kv_strv(w, "Env", i->env);
        kv_strv(w, "Cmd", i->command);
        json_kv_str(w, "WorkingDir", i->cwd);
        json_kv_str(w, "StopSignal", i->stop_signal ? i->stop_signal : "SIGTERM");
        json_kv_str(w, "Image", i->image_ref);
        json_obj_end(w);
        json_key(w, "HostConfig");
        json_obj_begin(w);
        json_key(w, "RestartPolicy");
        json_obj_begin(w);
        svc_policy p = { 0 };
        (void)svc_policy_parse(i->restart, &p, NULL); /* checked at run time */
        json_kv_str(w, "Name", p.kind == SVC_RESTART_NO ? "" : svc_policy_name(&p));
        json_kv_uint(w, "MaximumRetryCount", p.max);
        json_obj_end(w);
        json_kv_bool(w, "AutoRemove", i->auto_remove);
        json_key(w, "LogConfig");
        json_obj_begin(w);
        json_kv_str(w, "Type", "k8s-file");
        json_kv_str(w, "Path", i->log_path);
        json_kv_uint(w, "Size", i->log_max_size);
        json_obj_end(w);
        json_obj_end(w);
        json_key(w, "NetworkSettings");
        json_obj_begin(w);
        _cleanup_free_ char *ip = NULL, *gw = NULL, *mac = NULL;
        net_addr(i, &ip, &gw, &mac);
        json_kv_str(w, "IPAddress", ip ? ip : "");
        json_kv_str(w, "Gateway", gw ? gw : "");
        json_kv_str(w, "MacAddress", mac ? mac : "");
        json_key(w, "Ports");
        json_obj_begin(w);
        port_t *pv = NULL;
        size_t pn = ports_of(i, &pv);
        for (size_t k = 0; k < pn; k++) {
                _cleanup_free_ char *key = xasprintf("%ld/%s", pv[k].ctr, pv[k].proto);
                _cleanup_free_ char *hp = xasprintf("%ld", pv[k].host);
                json_key(w, key);
                json_arr_begin(w);
                json_obj_begin(w);
                json_kv_str(w, "HostIp", pv[k].ip);
                json_kv_str(w, "HostPort", hp);
                json_obj_end(w);
                json_arr_end(w);
        }
        ports_free(pv, pn);
        json_obj_end(w);
        json_obj_end(w);
        json_kv_str(w, "LogPath", i->log_path);
        json_kv_uint(w, "RestartCount", i->restarts);
        json_kv_str(w, "Bundle", i->bundle);
        json_kv_str(w, "StateRoot", i->root);
        json_obj_end(w);
}

char *husk_service_inspect_json(const husk_service_info_t *v, size_t n)
{
        json_writer *w = json_writer_new(true);
        json_arr_begin(w);
        for (size_t k = 0; k < n; k++)
                write_inspect(w, &v[k]);
        json_arr_end(w);
        return json_writer_finish(w);
}

char *husk_service_ps_json(const husk_service_info_t *v, size_t n)
{
        json_writer *w = json_writer_new(true);
        json_arr_begin(w);
        for (size_t k = 0; k < n; k++) {
                const husk_service_info_t *i = &v[k];
                char status[96];
                husk_service_status_text(i, status, sizeof(status));
                json_obj_begin(w);
                json_kv_str(w, "Id", i->id);
                kv_strv(w, "Names", (char *[]){ i->id, NULL });
                json_kv_str(w, "Image", i->image_ref);
                json_kv_str(w, "ImageID", i->image_id);
                kv_strv(w, "Command", i->command);
                json_kv_int(w, "Created", i->created / 1000000000);
                kv_time(w, "CreatedAt", i->created);
                json_kv_str(w, "State", husk_service_status_name(i->status));
                json_kv_str(w, "Status", status);
                json_kv_int(w, "Pid", i->pid);
                json_kv_int(w, "ExitCode", exit_code_shown(i));
                json_kv_bool(w, "Exited", i->status == HUSK_SERVICE_EXITED);
                json_kv_int(w, "ExitedAt", i->finished / 1000000000);
                json_kv_int(w, "StartedAt", i->started / 1000000000);
                json_kv_uint(w, "Restarts", i->restarts);
                json_kv_bool(w, "AutoRemove", i->auto_remove);
                json_key(w, "Ports");
                json_arr_begin(w);
                port_t *pv = NULL;
                size_t pn = ports_of(i, &pv);
                for (size_t p = 0; p < pn; p++) {
                        json_obj_begin(w);
                        json_kv_str(w, "host_ip", pv[p].ip);
                        json_kv_int(w, "container_port", pv[p].ctr);
                        json_kv_int(w, "host_port", pv[p].host);
                        json_kv_int(w, "range", 1);
                        json_kv_str(w, "protocol", pv[p].proto);
                        json_obj_end(w);
                }
                ports_free(pv, pn);
                json_arr_end(w);
                json_obj_end(w);
        }
        json_arr_end(w);
        return json_writer_finish(w);
}
