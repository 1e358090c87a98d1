/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn (`husk fn ...`): the command line of the function host. */
#include "fn.h"
#include "queue/queue.h"
#include "serve/auth.h"
#include "serve/cliclient.h"
#include "serve/qcli.h"
#include "serve/apicli.h"
#include "gateway/gateway.h"
#include "gw/gw.h"
#include "sched/sched.h"
#include "serve/schedcli.h"
#include "husk/image.h"
#include "husk/service.h"
#include "serve/statcli.h"
#include "util/json.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <microhttpd.h>

typedef struct args {
        const char *store, *image, *memory, *timeout, *concurrency, *max_queue, *keep_warm;
        const char *handler, *listen, *payload, *type, *endpoint, *init_timeout, *retry_delay;
        const char *pids, *log_max_size, *log_rate, *max_events, *request_timeout;
        const char *region, *account, *listen_unix, *format;
        const char *zip_base_image;
        const char *api_listen; /* issue 17: the HTTP APIs' listener */
        const char *api_workers, *api_backlog, *api_connections, *api_throttle; /* its bounds */
        const char *batch_size, *window, *max_concurrency;
        bool no_auth, report_failures;
        char **env;
        size_t n_env;
        bool follow, help;
        const char *pos[4];
        int npos;
} args;

#define PROG "husk fn"
#define fail(...) cliclient_fail(PROG, __VA_ARGS__)

static const char usage_text[] =
        "Usage: husk fn COMMAND [OPTIONS]\n\n"
        "Lambda-style functions: each invocation runs in a worker container from the function's\n"
        "image, which speaks the Lambda Runtime API (2018-06-01).\n\n"
        "Commands:\n"
        "  create NAME --image IMAGE|FILE.tar [--memory 128M] [--timeout 3s] [--concurrency 4]\n"
        "         [--max-queue 64] [--keep-warm 10m] [--handler H] [--env K=V ...]\n"
        "         [--pids 1024] [--log-max-size 10m] [--log-rate 1m] [--max-events 1000]\n"
        "  update NAME [the same options]\n"
        "  ls | inspect NAME | rm NAME\n"
        "  logs [-f] NAME             the function's log (START/END/REPORT and its output)\n"
        "  schedule create|ls|inspect|rm ...   schedules that invoke functions (see schedule -h)\n"
        "  serve [--listen 127.0.0.1:9000] [--listen-unix PATH] [--init-timeout 10s]\n"
        "        [--retry-delay 1s] [--request-timeout 30s] [--region us-east-1]\n"
        "        [--account 000000000000] [--no-auth]   (also `husk serve`: Lambda and SQS)\n"
        "        [--zip-base-image IMAGE]  (what Zip functions of the Lambda API run on)\n"
        "        [--api-listen ADDR:PORT]  (HTTP APIs' routes: the gateway)\n"
        "        [--api-workers 64] [--api-backlog 4096] [--api-connections N]\n"
        "        [--api-throttle RATE:BURST]  (the gateway's bounds; every API's own bucket)\n"
        "  serve credentials [--format ini|env]   the keys that sign requests (root only)\n"
        "  invoke NAME [--payload JSON|@FILE] [--type RequestResponse|Event|DryRun]\n"
        "         [--endpoint HOST:PORT]   (default: the running serve's address)\n"
        "  map FUNCTION QUEUE [--batch-size 10] [--window SECONDS] [--report-failures]\n"
        "         [--max-concurrency N]   the queue (name or ARN) triggers the function\n"
        "  unmap UUID | maps             remove, list the event source mappings\n"
        "  stats [NAME] [--format table|json]   invocations, errors, throttles, duration\n"
        "         (p50/p99/max), concurrency, iterator age: the running server's /metrics\n\n"
        "Every command takes --store DIR (default $HUSK_STORE or " HUSK_STORE_DEFAULT ").\n";

static const cliclient_opt str_opts[] = {
#define O(n, f) { n, offsetof(args, f) }
        O("store", store),         O("image", image),         O("memory", memory),
        O("timeout", timeout),     O("concurrency", concurrency), O("max-queue", max_queue),
        O("keep-warm", keep_warm), O("handler", handler),     O("listen", listen),
        O("payload", payload),     O("type", type),           O("endpoint", endpoint),
        O("init-timeout", init_timeout), O("retry-delay", retry_delay),
        O("pids", pids),           O("log-max-size", log_max_size), O("log-rate", log_rate),
        O("max-events", max_events), O("request-timeout", request_timeout),
        O("region", region),       O("account", account),     O("listen-unix", listen_unix),
        O("format", format),
        O("zip-base-image", zip_base_image), O("api-listen", api_listen),
        O("api-workers", api_workers), O("api-backlog", api_backlog),
        O("api-connections", api_connections), O("api-throttle", api_throttle),
        O("batch-size", batch_size), O("window", window), O("max-concurrency", max_concurrency),
};

static const cliclient_opt flags[] = {
        O("-f", follow), O("--follow", follow), O("--no-auth", no_auth),
        O("--report-failures", report_failures),
#undef O
};

/* --env K=V, again and again. */
static int env_opt(void *ud, const char *name, size_t len, const char *val)
{
        args *a = ud;
        if (len != 3 || strncmp(name, "env", 3) != 0)
                return 0;
        char why[200];
        if (fn_env_check(val, why, sizeof(why)) < 0)
                return -fail("--env: %s", why);
        a->env = xrealloc(a->env, (a->n_env + 2) * sizeof(char *));
        a->env[a->n_env++] = (char *)val;
        a->env[a->n_env] = NULL;
        return 1;
}

static const cliclient_syntax syntax = {
        .prog = PROG, .help = PROG " --help", .values = str_opts, .n_values = ARRAY_SIZE(str_opts),
        .flags = flags, .n_flags = ARRAY_SIZE(flags), .help_off = offsetof(args, help),
        .pos_off = offsetof(args, pos), .npos_off = offsetof(args, npos),
        .max_pos = (int)ARRAY_SIZE(((args *)0)->pos), .plain_overflow = true, .more = env_opt,
};

static void db_closep(fn_db **db)
{
        fn_db_close(*db);
}

static const char *store_of(const args *a)
{
        husk_image_opts_t o = { .store = a->store };
        return husk_image_store_path(&o);
}

static int open_db(const args *a, fn_db **ret)
{
        const char *store = store_of(a);
        _cleanup_free_ char *dir = fn_path(store, NULL), *path = fn_path(store, "fn.db");
        int r = mkdir_p(dir, 0750);
        if (r < 0)
                return fail("create %s: %s", dir, strerror(-r));
        husk_error_t err = { 0 };
        if (fn_db_open(path, ret, &err) < 0)
                return fail("%s", err.msg);
        return 0;
}

static int uint_opt(const char *name, const char *v, unsigned min, unsigned max, unsigned *ret)
{
        uint32_t x;
        if (parse_uint32(v, &x) < 0 || x < min || x > max)
                return fail("--%s %s: a number from %u to %u", name, v, min, max);
        *ret = x;
        return 0;
}

/* The options of create/update onto d. */
static int apply_opts(const args *a, fn_def *d)
{
        if (a->memory && fn_parse_memory_mb(a->memory, &d->memory_mb) < 0)
                return fail("--memory %s: 16M .. 10240M (e.g. 128M, 1G)", a->memory);
        if (a->timeout && (fn_parse_duration_ms(a->timeout, &d->timeout_ms) < 0 ||
                           d->timeout_ms < 1 || d->timeout_ms > 900000))
                return fail("--timeout %s: 1ms .. 15m (e.g. 3s, 500ms)", a->timeout);
        if (a->keep_warm && fn_parse_duration_ms(a->keep_warm, &d->keep_warm_ms) < 0)
                return fail("--keep-warm %s: a duration (e.g. 10m, 2s, 0)", a->keep_warm);
        if (a->concurrency && uint_opt("concurrency", a->concurrency, 1, 1000, &d->concurrency))
                return 1;
        if (a->concurrency)
                d->reserved = true; /* as PutFunctionConcurrency */
        if (a->max_queue && uint_opt("max-queue", a->max_queue, 0, 100000, &d->max_queue))
                return 1;
        if (a->pids && uint_opt("pids", a->pids, 8, 4194304, &d->pids))
                return 1;
        if (a->max_events && uint_opt("max-events", a->max_events, 1, 100000, &d->max_events))
                return 1;
        if (a->log_max_size && (husk_service_size_parse(a->log_max_size, &d->log_max_size) < 0 ||
                                d->log_max_size < 4096))
                return fail("--log-max-size %s: a size of at least 4k, e.g. 10m", a->log_max_size);
        if (a->log_rate && (husk_service_size_parse(a->log_rate, &d->log_rate) < 0 ||
                            d->log_rate < 1024))
                return fail("--log-rate %s: bytes per second, at least 1k, e.g. 1m", a->log_rate);
        if (a->handler && !fn_text_printable(a->handler))
                return fail("--handler: control characters are not allowed");
        if (a->handler) {
                free(d->handler);
                d->handler = xstrdup(a->handler);
        }
        if (a->env) {
                strv_free(d->env);
                d->env = strv_copy(a->env, a->n_env);
        }
        return 0;
}

/* A path is loaded into the store; a name is resolved. Either way the image id is kept. */
static int resolve_image(const args *a, const char *ref, char **ret_id)
{
        husk_error_t err = { 0 };
        if (fn_image_ref(store_of(a), ref, ret_id, &err) < 0)
                return fail("image %s: %s", ref, err.msg);
        return 0;
}

static int cmd_create(args *a, bool create)
{
        if (a->npos != 2)
                return fail("%s needs one NAME", create ? "create" : "update");
        const char *name = a->pos[1];
        if (!fn_name_valid(name))
                return fail("invalid function name \"%s\": 1 to %d of A-Z a-z 0-9 - _", name,
                            FN_NAME_MAX);
        _cleanup_(db_closep) fn_db *db = NULL;
        if (open_db(a, &db))
                return 1;
        husk_error_t err = { 0 };
        fn_def *d = NULL;
        if (create) {
                if (!a->image)
                        return fail("create needs --image IMAGE|FILE.tar");
                d = fn_def_new(name);
        } else if (fn_db_get(db, name, &d, &err) < 0) {
                return fail("%s", err.msg);
        }
        int rc = apply_opts(a, d);
        _cleanup_free_ char *old_code = NULL;
        if (!rc && a->image) {
                char *id = NULL;
                if (!(rc = resolve_image(a, a->image, &id))) {
                        free(d->image);
                        free(d->image_id);
                        d->image = xstrdup(a->image);
                        d->image_id = id;
                        /* An image replaces a Zip package (its task root goes after the update). */
                        old_code = TAKE_PTR(d->code_dir);
                        d->code_dir = xstrdup("");
                        free(d->package_type);
                        d->package_type = xstrdup("Image");
                        free(d->runtime);
                        d->runtime = xstrdup("");
                        free(d->code_sha256);
                        d->code_sha256 = fn_image_code_sha256(id);
                        d->code_size = 0;
                }
        }
        if (!rc && fn_db_put(db, d, create, &err) < 0)
                rc = fail("%s", err.msg);
        if (!rc && old_code && *old_code)
                fn_code_remove(store_of(a), old_code);
        if (!rc)
                printf("%s\n", name);
        fn_def_free(d);
        return rc;
}

static void def_json(json_writer *w, const fn_def *d)
{
        json_obj_begin(w);
        json_kv_str(w, "name", d->name);
        json_kv_str(w, "image", d->image);
        json_kv_str(w, "image_id", d->image_id);
        json_kv_str(w, "handler", d->handler);
        json_kv_uint(w, "memory_mb", d->memory_mb);
        json_kv_uint(w, "timeout_ms", d->timeout_ms);
        json_kv_uint(w, "concurrency", d->concurrency);
        json_kv_uint(w, "max_queue", d->max_queue);
        json_kv_uint(w, "keep_warm_ms", d->keep_warm_ms);
        json_kv_uint(w, "pids", d->pids);
        json_kv_uint(w, "log_max_size", d->log_max_size);
        json_kv_uint(w, "log_rate", d->log_rate);
        json_kv_uint(w, "max_events", d->max_events);
        json_key(w, "env");
        json_arr_begin(w);
        for (size_t i = 0; d->env && d->env[i]; i++)
                json_str(w, d->env[i]);
        json_arr_end(w);
        json_kv_str(w, "created", d->created);
        json_kv_str(w, "updated", d->updated);
        /* Lambda's configuration (issue 14) */
        json_kv_str(w, "package_type", d->package_type);
        json_kv_str(w, "code_sha256", d->code_sha256);
        if (d->code_dir && *d->code_dir)
                json_kv_str(w, "code_dir", d->code_dir);
        if (d->runtime && *d->runtime)
                json_kv_str(w, "runtime", d->runtime);
        json_kv_str(w, "description", d->description);
        json_kv_uint(w, "ephemeral_mb", d->ephemeral_mb);
        json_kv_bool(w, "reserved_concurrency", d->reserved);
}

static int cmd_inspect(args *a)
{
        if (a->npos != 2)
                return fail("inspect needs one NAME");
        _cleanup_(db_closep) fn_db *db = NULL;
        if (open_db(a, &db))
                return 1;
        husk_error_t err = { 0 };
        fn_def *d = NULL;
        unsigned cnt[4];
        if (fn_db_get(db, a->pos[1], &d, &err) < 0 || fn_db_async_counts(db, a->pos[1], cnt, &err) < 0) {
                fn_def_free(d);
                return fail("%s", err.msg);
        }
        json_writer *w = json_writer_new(true);
        def_json(w, d);
        _cleanup_free_ char *rel = xasprintf("logs/%s.log", d->name);
        _cleanup_free_ char *log = fn_path(store_of(a), rel);
        json_kv_str(w, "log", log);
        json_key(w, "async");
        json_obj_begin(w);
        json_kv_uint(w, "pending", cnt[0]);
        json_kv_uint(w, "running", cnt[1]);
        json_kv_uint(w, "done", cnt[2]);
        json_kv_uint(w, "failed", cnt[3]);
        json_obj_end(w);
        json_obj_end(w);
        char *s = json_writer_finish(w);
        printf("%s\n", s);
        free(s);
        fn_def_free(d);
        return 0;
}

static char *fmt_ms(uint64_t ms)
{
        if (ms && ms % 3600000 == 0)
                return xasprintf("%lluh", (unsigned long long)(ms / 3600000));
        if (ms && ms % 60000 == 0)
                return xasprintf("%llum", (unsigned long long)(ms / 60000));
        if (ms % 1000 == 0)
                return xasprintf("%llus", (unsigned long long)(ms / 1000));
        return xasprintf("%llums", (unsigned long long)ms);
}

static int cmd_ls(args *a)
{
        _cleanup_(db_closep) fn_db *db = NULL;
        if (open_db(a, &db))
                return 1;
        fn_def **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_list(db, &v, &n, &err) < 0)
                return fail("%s", err.msg);
        printf("%-24s %-28s %-7s %-8s %-11s %s\n", "NAME", "IMAGE", "MEMORY", "TIMEOUT",
               "CONCURRENCY", "KEEP-WARM");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *t = fmt_ms(v[i]->timeout_ms), *k = fmt_ms(v[i]->keep_warm_ms);
                char mem[16];
                snprintf(mem, sizeof(mem), "%uM", v[i]->memory_mb);
                printf("%-24s %-28s %-7s %-8s %-11u %s\n", v[i]->name, v[i]->image, mem, t,
                       v[i]->concurrency, k);
                fn_def_free(v[i]);
        }
        free(v);
        return 0;
}

/* `husk-fn image-users IMAGE_ID` (not in the usage: `husk image rm` asks it, so that husk itself
 * need not read fn.db): the functions whose image is IMAGE_ID, one name a line. */
static int cmd_image_users(args *a)
{
        if (a->npos != 2)
                return fail("image-users needs one image id");
        _cleanup_(db_closep) fn_db *db = NULL;
        if (open_db(a, &db))
                return 1;
        fn_def **v = NULL;
        size_t n = 0;
        husk_error_t err = { 0 };
        if (fn_db_list(db, &v, &n, &err) < 0)
                return fail("%s", err.msg);
        for (size_t i = 0; i < n; i++) {
                if (v[i]->image_id && strcmp(v[i]->image_id, a->pos[1]) == 0)
                        printf("%s\n", v[i]->name);
                fn_def_free(v[i]);
        }
        free(v);
        return 0;
}

static int cmd_rm(args *a)
{
        if (a->npos < 2)
                return fail("rm needs NAME");
        _cleanup_(db_closep) fn_db *db = NULL;
        if (open_db(a, &db))
                return 1;
        int rc = 0;
        for (int i = 1; i < a->npos; i++) {
                husk_error_t err = { 0 };
                fn_def *d = NULL;
                if (fn_db_get(db, a->pos[i], &d, &err) < 0 || fn_db_rm(db, a->pos[i], &err) < 0) {
                        fn_def_free(d);
                        rc = fail("%s", err.msg);
                        continue;
                }
                fn_code_remove(store_of(a), d->code_dir); /* a Zip function's task root */
                fn_def_free(d);
                /* The log goes with the function: a new one of the same name starts empty (a
                 * running server reopens it, finding its file unlinked). */
                static const char *const suffixes[] = { ".log", ".log.1" };
                for (size_t k = 0; k < ARRAY_SIZE(suffixes); k++) {
                        _cleanup_free_ char *rel = xasprintf("logs/%s%s", a->pos[i], suffixes[k]);
                        _cleanup_free_ char *path = fn_path(store_of(a), rel);
                        if (unlink(path) < 0 && errno != ENOENT)
                                rc = fail("remove %s: %s", path, strerror(errno));
                }
                printf("%s\n", a->pos[i]);
        }
        return rc;
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int s)
{
        (void)s;
        stop_flag = 1;
}

/* Copies what fd holds from its offset to stdout: 0 at EOF, -1 on an error. */
static int copy_out(int fd, const char *path)
{
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n > 0) {
                        if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                                return -1;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        fail("read %s: %s", path, strerror(errno));
                return n < 0 ? -1 : 0;
        }
}

/* The file at path is no longer the one fd reads: it was rotated (or removed and made again). */
static bool replaced(int fd, const char *path)
{
        struct stat a, b;
        if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
                return false;
        return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static int cmd_logs(args *a)
{
        if (a->npos != 2 || !fn_name_valid(a->pos[1]))
                return fail("logs needs one valid NAME");
        _cleanup_free_ char *rel = xasprintf("logs/%s.log", a->pos[1]);
        _cleanup_free_ char *path = fn_path(store_of(a), rel);
        _cleanup_free_ char *old = xasprintf("%s.1", path);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && (!a->follow || errno != ENOENT))
                return fail("%s: %s", path, errno == ENOENT ? "no log yet" : strerror(errno));
        /* The rotated file first (--log-max-size), then the current one, as services do. */
        _cleanup_close_ int ofd = open(old, O_RDONLY | O_CLOEXEC);
        if (ofd >= 0 && copy_out(ofd, old) < 0)
                return 1;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        for (;;) {
                if (fd < 0)
                        fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && copy_out(fd, path) < 0)
                        return 1;
                if (!a->follow || stop_flag)
                        return 0;
                if (fd >= 0 && replaced(fd, path)) {
                        /* What was written before the rename is read above; go on with the new file. */
                        if (copy_out(fd, path) < 0)
                                return 1;
                        close(fd);
                        fd = -1;
                        continue;
                }
                struct timespec ts = { 0, 100000000 };
                nanosleep(&ts, NULL);
        }
}

/* AWS's region names: "us-east-1", "eu-central-2", "us-gov-west-1". */
static bool region_valid(const char *s)
{
        size_t n = strlen(s);
        if (n < 1 || n > 32 || s[0] == '-' || s[n - 1] == '-')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static bool account_valid(const char *s)
{
        return strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

/* ---- issue 17: what the gateway and the scheduler reach through the server ---- */
typedef struct serve_ctx {
        fn_host *h;
        q_engine *q;
        const char *store;
} serve_ctx;

/* The gateway's AWS_PROXY integrations: a synchronous invoke on a pool thread. The end of the
 * invocation (END/REPORT, the worker frozen) is left in res->finish for gateway_finish, which
 * the gateway calls once the answer is on its way, as the front door does in its completion. */
static void gateway_invoke(void *ud, const char *function, const char *payload, size_t len,
                           gateway_result *res)
{
        serve_ctx *sc = ud;
        char name[FN_NAME_MAX + 1];
        *res = (gateway_result){ 0 };
        if (fn_arn_name(function, name) < 0) {
                res->outcome = GATEWAY_NOT_FOUND;
                return;
        }
        fn_result *fr = xcalloc(1, sizeof(*fr));
        fn_host_invoke(sc->h, name, payload, len, true, fr);
        switch (fr->outcome) {
        case FN_OK: res->outcome = GATEWAY_OK; break;
        case FN_FUNC_ERROR: res->outcome = GATEWAY_FUNC_ERROR; break;
        case FN_REJECTED: res->outcome = GATEWAY_THROTTLED; break;
        case FN_NOT_FOUND: res->outcome = GATEWAY_NOT_FOUND; break;
        case FN_HOST_ERROR: res->outcome = GATEWAY_HOST_ERROR; break;
        }
        if (fr->body) {
                res->body = xmalloc(fr->len + 1);
                memcpy(res->body, fr->body, fr->len);
                res->body[fr->len] = '\0';
                res->len = fr->len;
        }
        res->finish = fr;
}

static void gateway_finish(void *ud, void *finish)
{
        serve_ctx *sc = ud;
        fn_result *fr = finish;
        if (!fr)
                return;
        fn_host_finish(sc->h, fr);
        fn_result_done(fr);
        free(fr);
}

/* HTTP_PROXY integrations name a husk service: its address on its network. */
static int gateway_resolve(void *ud, const char *service, char *addr, size_t addr_len)
{
        serve_ctx *sc = ud;
        husk_service_info_t info = { 0 };
        husk_error_t err = { 0 };
        if (husk_service_get(sc->store, service, &info, &err) < 0)
                return -ENOENT;
        int r = -ENOENT;
        json_value *v = NULL;
        char why[128];
        /* network.json: {"network", "ips": ["10.88.0.5/16", ...], ...}; the first IPv4 one */
        if (info.status == HUSK_SERVICE_RUNNING && info.network_json &&
            json_parse(info.network_json, strlen(info.network_json), &v, why, sizeof(why)) == 0) {
                const json_value *ips = json_get(v, "ips");
                for (size_t i = 0; ips && ips->type == JSON_ARRAY && i < ips->n && r < 0; i++) {
                        const char *ip = ips->items[i]->type == JSON_STRING ? ips->items[i]->str : "";
                        size_t n = strcspn(ip, "/");
                        if (n && n < addr_len && !memchr(ip, ':', n)) {
                                memcpy(addr, ip, n);
                                addr[n] = '\0';
                                r = 0;
                        }
                }
        }
        json_value_free(v);
        husk_service_info_done(&info);
        return r;
}

/* --api-workers, --api-backlog, --api-connections: counts; --api-throttle RATE:BURST. */
static int gateway_bounds(const args *a, gateway_opts *go)
{
        const struct {
                const char *name, *val;
                unsigned *out, max;
        } n[] = { { "--api-workers", a->api_workers, &go->workers, 1024 },
                  { "--api-backlog", a->api_backlog, &go->backlog, 1000000 },
                  { "--api-connections", a->api_connections, &go->connections, 1000000 } };
        for (size_t i = 0; i < ARRAY_SIZE(n); i++) {
                uint32_t v;
                if (n[i].val && (parse_uint32(n[i].val, &v) < 0 || v < 1 || v > n[i].max))
                        return fail("%s %s: 1 .. %u", n[i].name, n[i].val, n[i].max);
                if (n[i].val)
                        *n[i].out = v;
        }
        go->api_rate = -1;
        if (a->api_throttle) {
                const char *colon = strchr(a->api_throttle, ':');
                char *end = NULL;
                double rate = colon ? strtod(a->api_throttle, &end) : -1;
                uint32_t burst;
                _cleanup_free_ char *b = colon ? xstrdup(colon + 1) : NULL;
                if (!colon || end != colon || !(rate >= 0 && rate <= 1e7) ||
                    parse_uint32(b, &burst) < 0 || burst > 5000000)
                        return fail("--api-throttle %s: RATE:BURST (requests per second, "
                                    "0 .. 10000000, and a burst of 0 .. 5000000)", a->api_throttle);
                go->api_rate = rate;
                go->api_burst = burst;
        }
        return 0;
}

/* A schedule's function target: synchronous, its failure reported to the retry policy. */
static int sched_invoke(void *ud, const char *function, const char *input, size_t len, char *why,
                        size_t why_len)
{
        gateway_result res;
        gateway_invoke(ud, function, input, len, &res);
        gateway_finish(ud, res.finish);
        int rc = res.outcome == GATEWAY_OK ? 0 : -1;
        if (rc < 0)
                snprintf(why, why_len, "%s", /* "ERROR_CODE: message" (a DLQ event's) */
                         res.outcome == GATEWAY_NOT_FOUND  ? "ResourceNotFoundException: no such function"
                         : res.outcome == GATEWAY_THROTTLED ? "TooManyRequestsException: throttled"
                         : res.outcome == GATEWAY_FUNC_ERROR ? "FunctionError: the function failed"
                                                             : "ServiceException: the host could not run it");
        free(res.body);
        return rc;
}

/* A schedule's dead-letter queue (an SQS ARN of this server). */
static int sched_send(void *ud, const char *queue_arn, const char *body, size_t len,
                      const sched_attr *attrs, size_t n_attrs, char *why, size_t why_len)
{
        serve_ctx *sc = ud;
        if (!sc->q) {
                snprintf(why, why_len, "the queue service is not available");
                return -1;
        }
        const char *name = strrchr(queue_arn, ':');
        name = name ? name + 1 : queue_arn;
        q_msg_attr qa[16];
        for (size_t i = 0; i < n_attrs && i < 16; i++)
                qa[i] = (q_msg_attr){ .name = (char *)attrs[i].name, .data_type = (char *)"String",
                                      .string_value = (char *)attrs[i].value };
        q_send_entry e = { .body = body, .body_len = len, .delay_seconds = -1, .attrs = qa,
                           .n_attrs = n_attrs < 16 ? n_attrs : 16 };
        q_send_result res;
        q_error qerr = { 0 };
        if (q_send(sc->q, name, "scheduler", &e, 1, &res, &qerr) < 0) {
                snprintf(why, why_len, "%s", qerr.msg);
                return -1;
        }
        return 0;
}

static int cmd_serve(args *a, char **argv)
{
        /* CVE-2019-5736: the zygote and its workers are clones of this process; they must not run
         * from the writable husk-fn binary. */
        husk_error_t serr = { 0 };
        if (husk_exe_seal(argv, &serr) < 0)
                return fail("%s", serr.msg);
        fn_host_opts o = { .store = store_of(a), .zip_base_image = a->zip_base_image };
        if (a->init_timeout && fn_parse_duration_ms(a->init_timeout, &o.init_timeout_ms) < 0)
                return fail("--init-timeout %s: a duration", a->init_timeout);
        if (a->retry_delay && fn_parse_duration_ms(a->retry_delay, &o.retry_base_ms) < 0)
                return fail("--retry-delay %s: a duration", a->retry_delay);
        if (a->request_timeout && (fn_parse_duration_ms(a->request_timeout, &o.request_timeout_ms) < 0 ||
                                   o.request_timeout_ms < 100 || o.request_timeout_ms > 3600000))
                return fail("--request-timeout %s: 100ms .. 1h (e.g. 30s)", a->request_timeout);
        const char *listen = a->listen ? a->listen : FN_DEFAULT_LISTEN;
        gateway_opts gb = { 0 }; /* the gateway's bounds, checked before anything starts */
        if (gateway_bounds(a, &gb) != 0)
                return 1;
        q_config qc = { .region = a->region ? a->region : Q_DEFAULT_REGION,
                        .account = a->account ? a->account : Q_DEFAULT_ACCOUNT };
        if (!region_valid(qc.region))
                return fail("--region %s: a region name such as us-east-1 (a-z, 0-9 and -)",
                            qc.region);
        if (!account_valid(qc.account))
                return fail("--account %s: twelve digits", qc.account);
        o.region = qc.region; /* of the functions' ARNs too */
        o.account = qc.account;
        /* The keys requests must be signed with (created at the first start), read before
         * anything else starts: a bad credentials file stops the server. */
        serve_auth auth = { .region = qc.region };
        char why[512];
        int r = mkdir_p(o.store, 0700); /* a first start: the store's own mode */
        if (r < 0)
                return fail("create %s: %s", o.store, strerror(-r));
        if (!a->no_auth && serve_creds_load(o.store, true, &auth.creds, why, sizeof(why)) < 0)
                return fail("%s", why);
        if (a->no_auth)
                fprintf(stderr, "husk fn: warning: --no-auth: unsigned requests are served "
                        "(any local user may invoke and use the queues)\n");
        husk_error_t err = { 0 };
        fn_host *h = NULL;
        if (fn_host_new(&o, &h, &err) < 0)
                return fail("%s", err.msg);
        if (fn_host_limits_warning(h))
                fprintf(stderr, "husk fn: warning: %s\n", fn_host_limits_warning(h));
        /* The queues: STORE/queue/queue.db. Without them the Lambda side still serves, and SQS
         * requests answer 503 with the reason. */
        _cleanup_free_ char *qdir = xasprintf("%s/queue", o.store);
        _cleanup_free_ char *qpath = xasprintf("%s/queue.db", qdir);
        q_engine *qe = NULL;
        q_error qerr = { 0 };
        r = mkdir_p(qdir, 0700);
        if (r < 0)
                snprintf(qerr.msg, sizeof(qerr.msg), "create %s: %s", qdir, strerror(-r));
        else if (q_engine_open(qpath, &qc, &qe, &qerr) < 0)
                qe = NULL;
        if (!qe)
                fprintf(stderr, "husk fn: warning: queues are not served: %s: %s\n", qpath,
                        qerr.msg);
        /* Issue 17: the HTTP APIs' model (STORE/gw/gw.db) and the schedules
         * (STORE/sched/sched.db). Without them the rest still serves; their requests answer 503. */
        serve_ctx sctx = { .h = h, .q = qe, .store = o.store };
        _cleanup_free_ char *gwdir = xasprintf("%s/gw", o.store);
        _cleanup_free_ char *gwpath = xasprintf("%s/gw.db", gwdir);
        gw_store *gws = NULL;
        gw_error gerr = { 0 };
        if ((r = mkdir_p(gwdir, 0700)) < 0)
                snprintf(gerr.msg, sizeof(gerr.msg), "create %s: %s", gwdir, strerror(-r));
        else if (gw_store_open(gwpath, &gws, &gerr) < 0)
                gws = NULL;
        if (!gws)
                fprintf(stderr, "husk fn: warning: HTTP APIs are not served: %s\n", gerr.msg);
        else
                gw_store_set_server(gws, qc.region, NULL); /* ApiEndpoint: once --api-listen binds */
        _cleanup_free_ char *sdir = xasprintf("%s/sched", o.store);
        _cleanup_free_ char *spath = xasprintf("%s/sched.db", sdir);
        sched_opts so = { .path = spath,
                          .region = qc.region,
                          .account = qc.account,
                          .targets = { .invoke = sched_invoke, .send = sched_send, .ud = &sctx } };
        sched_engine *se = NULL;
        char swhy[512] = "";
        if ((r = mkdir_p(sdir, 0700)) < 0)
                snprintf(swhy, sizeof(swhy), "create %s: %s", sdir, strerror(-r));
        else if (sched_open(&so, &se, swhy, sizeof(swhy)) < 0)
                se = NULL;
        if (!se)
                fprintf(stderr, "husk fn: warning: schedules are not served: %s\n", swhy);
        /* Signals are taken by sigwait below: block them before any thread exists (the zygote,
         * forked already, keeps the default mask for the workers it creates). */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        if (fn_host_run(h, &err) < 0) {
                if (qe)
                        q_engine_close(qe);
                fn_host_free(h);
                return fail("%s", err.msg);
        }
        /* Event source mappings: their pollers receive from the queues and invoke through h. */
        fn_esm *esm = NULL;
        if (qe && fn_esm_start(h, qe, &esm, &err) < 0) {
                q_engine_close(qe);
                fn_host_free(h);
                return fail("%s", err.msg);
        }
        unsigned port = 0;
        fn_front_opts fo = { .listen = listen,
                             .listen_unix = a->listen_unix,
                             .request_timeout_ms = o.request_timeout_ms,
                             .queue = qe,
                             .queue_error = qerr.msg,
                             .auth = a->no_auth ? NULL : &auth,
                             .store = o.store,
                             .gw = gws,
                             .sched = se };
        fn_front *front = NULL;
        gateway *gwl = NULL;
        if (se && sched_start(se, swhy, sizeof(swhy)) < 0) {
                fprintf(stderr, "husk fn: warning: schedules are not run: %s\n", swhy);
                sched_close(se);
                se = fo.sched = NULL;
        }
        if (a->api_listen && !gws) {
                husk_error_set(&err, EINVAL, "--api-listen %s: %s", a->api_listen, gerr.msg);
        } else if ((front = fn_front_start(h, &fo, &port, &err)) && a->api_listen) {
                gateway_opts go = { .listen = a->api_listen,
                                    .store = gws,
                                    .store_dir = o.store,
                                    .region = qc.region,
                                    .account = qc.account,
                                    .invoke = gateway_invoke,
                                    .resolve = gateway_resolve,
                                    .finish = gateway_finish,
                                    .ud = &sctx };
                unsigned gport = 0;
                char gwhy[512] = "";
                go.workers = gb.workers;
                go.backlog = gb.backlog;
                go.connections = gb.connections;
                go.api_rate = gb.api_rate;
                go.api_burst = gb.api_burst;
                if (gateway_start(&go, &gwl, &gport, gwhy, sizeof(gwhy)) < 0) {
                        husk_error_set(&err, EINVAL, "--api-listen %s: %s", a->api_listen, gwhy);
                        fn_front_stop(front);
                        front = NULL;
                } else {
                        fprintf(stderr, "husk fn: HTTP APIs on http://%.*s:%u\n",
                                (int)(strrchr(a->api_listen, ':') - a->api_listen), a->api_listen,
                                gport);
                        _cleanup_free_ char *gurl =
                                xasprintf("http://%.*s:%u",
                                          (int)(strrchr(a->api_listen, ':') - a->api_listen),
                                          a->api_listen, gport);
                        gw_store_set_server(gws, qc.region, gurl);
                }
        }
        if (!front) {
                if (se)
                        sched_stop(se);
                if (qe)
                        q_engine_shutdown(qe);
                fn_esm_stop(esm);
                if (qe)
                        q_engine_close(qe);
                if (se)
                        sched_close(se);
                if (gws)
                        gw_store_close(gws);
                fn_host_free(h);
                return fail("%s", err.msg);
        }
        _cleanup_free_ char *host = xstrndup(listen, strrchr(listen, ':') - listen);
        _cleanup_free_ char *addr = xasprintf("%s:%u\n", host, port);
        _cleanup_free_ char *dir = fn_path(o.store, NULL);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *region = xasprintf("%s\n", qc.region);
        /* serve.region: the region `husk fn invoke` signs for. */
        if (dfd < 0 || write_file_atomic_at(dfd, "serve.addr", addr, strlen(addr), 0644) < 0 ||
            write_file_atomic_at(dfd, "serve.region", region, strlen(region), 0644) < 0)
                fprintf(stderr, "husk fn: warning: cannot write %s/serve.addr\n", dir);
        fprintf(stderr, "husk fn: serving on http://%s:%u%s%s\n", host, port,
                a->listen_unix ? " and unix:" : "", a->listen_unix ? a->listen_unix : "");
        int sig = 0;
        sigwait(&set, &sig);
        fprintf(stderr, "husk fn: stopping (signal %d)\n", sig);
        if (gwl)
                gateway_stop(gwl);     /* no new route requests; integrations end */
        if (se)
                sched_stop(se);        /* a target call in progress finishes first */
        if (qe)
                q_engine_shutdown(qe); /* long polls return: their connections can close */
        fn_esm_stop(esm);          /* pollers finish their invocation and stop */
        fn_front_stop(front);
        if (qe)
                q_engine_close(qe);
        if (se)
                sched_close(se);
        if (gws)
                gw_store_close(gws);
        fn_host_free(h);
        (void)unlinkat(dfd, "serve.addr", 0);
        (void)unlinkat(dfd, "serve.region", 0);
        explicit_bzero(&auth, sizeof(auth));
        return 0;
}

/* `husk serve credentials`: the keys, for root only (they let anyone invoke and read queues). */
static int cmd_credentials(args *a)
{
        const char *fmt = a->format ? a->format : "ini";
        if (strcmp(fmt, "ini") != 0 && strcmp(fmt, "env") != 0)
                return fail("--format %s: ini or env", fmt);
        /* A user may read the keys of its own store (a rootless server's), not root's. */
        struct stat sst;
        if (geteuid() != 0 &&
            (stat(store_of(a), &sst) == 0 ? sst.st_uid != geteuid() : errno != ENOENT))
                return fail("serve credentials: only root may read the server's keys (%s/"
                            "credentials)", store_of(a));
        serve_creds c;
        char why[512];
        int r = mkdir_p(store_of(a), 0700);
        if (r < 0)
                return fail("create %s: %s", store_of(a), strerror(-r));
        if (serve_creds_load(store_of(a), true, &c, why, sizeof(why)) < 0)
                return fail("%s", why);
        if (strcmp(fmt, "env") == 0)
                printf("export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", c.key_id,
                       c.secret);
        else
                printf("aws_access_key_id=%s\naws_secret_access_key=%s\n", c.key_id, c.secret);
        explicit_bzero(&c, sizeof(c));
        return 0;
}

/* ---- invoke, map, unmap, maps: clients of the running server (src/serve/cliclient.c) ---- */

/* How the Lambda API's answers (and the SQS call of map) read to these commands. */
static char *api_error(const serve_answer *an, const json_value *v)
{
        const char *m = json_get_str(v, "message");
        if (!m)
                m = json_get_str(v, "Message");
        if (!m)
                m = json_get_str(v, "__type");
        return xstrdup(m ? m : an->body);
}

static char *api_not_json(const serve_answer *an)
{
        return xasprintf("HTTP %u: %.300s", an->status, an->body);
}

static const cliclient_wire api_wire = { .hint = " (is `husk serve` running?)",
                                         .error = api_error, .not_json = api_not_json };
static const cliclient_wire invoke_wire = { .hint = " (is `husk fn serve` running?)" };

static int cmd_invoke(args *a)
{
        if (a->npos != 2)
                return fail("invoke needs one NAME");
        _cleanup_free_ char *payload = NULL;
        size_t len = 0;
        if (a->payload && a->payload[0] == '@') {
                int r = read_file_at(AT_FDCWD, a->payload + 1, 64u << 20, &payload, &len);
                if (r < 0)
                        return fail("--payload %s: %s", a->payload, strerror(-r));
        } else {
                payload = xstrdup(a->payload ? a->payload : "{}");
                len = strlen(payload);
        }
        const char *type = a->type ? a->type : "RequestResponse";
        _cleanup_free_ char *path = xasprintf("/2015-03-31/functions/%s/invocations", a->pos[1]);
        serve_kv h[] = { { (char *)"Content-Type", (char *)"application/json" },
                         { (char *)"X-Amz-Invocation-Type", (char *)type } };
        cliclient_req rq = { .service = "lambda", .method = "POST", .path = path, .headers = h,
                             .n_headers = ARRAY_SIZE(h), .body = payload, .len = len };
        cliclient c;
        cliclient_open(&c, PROG, a->store, a->endpoint, a->region);
        serve_answer an;
        int r = cliclient_send(&c, &invoke_wire, &rq, &an);
        cliclient_close(&c);
        if (r)
                return r;
        bool func_err = strcasestr(an.head, "\r\nX-Amz-Function-Error:") != NULL;
        unsigned status = an.status;
        (void)write_all(STDOUT_FILENO, an.body, an.len);
        if (an.len && an.body[an.len - 1] != '\n')
                (void)write_all(STDOUT_FILENO, "\n", 1);
        serve_answer_free(&an);
        if (status >= 300)
                return fail("HTTP %u", status);
        if (func_err)
                return fail("the function failed (X-Amz-Function-Error)");
        return 0;
}

/* ---- map, unmap, maps: event source mappings, through the running server's Lambda API ---- */

/* One signed call; the parsed JSON answer in *ret (a JSON null when the body is empty).
 * Non-zero: the error is printed. */
static int api_call(const args *a, const char *service, const char *method, const char *path,
                    const char *target, const char *body, json_value **ret)
{
        serve_kv h[] = { { (char *)"Content-Type",
                           (char *)(target ? "application/x-amz-json-1.0" : "application/json") },
                         { (char *)"X-Amz-Target", (char *)target } };
        cliclient_req rq = { .service = service, .method = method, .path = path, .headers = h,
                             .n_headers = target ? 2 : 1, .body = body };
        cliclient c;
        cliclient_open(&c, PROG, a->store, a->endpoint, a->region);
        int r = cliclient_call(&c, &api_wire, &rq, ret);
        cliclient_close(&c);
        return r;
}

static int cmd_map(args *a)
{
        if (a->npos != 3)
                return fail("map needs FUNCTION QUEUE");
        _cleanup_free_ char *arn = NULL;
        if (strncmp(a->pos[2], "arn:", 4) == 0) {
                arn = xstrdup(a->pos[2]);
        } else {
                /* A queue name: its ARN, from the server. */
                _cleanup_free_ char *q = json_quote(a->pos[2]);
                _cleanup_free_ char *body = xasprintf("{\"QueueUrl\":%s,\"AttributeNames\":"
                                                      "[\"QueueArn\"]}", q);
                json_value *v = NULL;
                if (api_call(a, "sqs", "POST", "/", "AmazonSQS.GetQueueAttributes", body, &v))
                        return 1;
                const char *s = json_get_str(json_get(v, "Attributes"), "QueueArn");
                arn = s ? xstrdup(s) : NULL;
                json_value_free(v);
                if (!arn)
                        return fail("queue %s: the server named no QueueArn", a->pos[2]);
        }
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_kv_str(j, "FunctionName", a->pos[1]);
        json_kv_str(j, "EventSourceArn", arn);
        const struct {
                const char *opt, *key, *v;
                unsigned min, max;
        } nums[] = { { "batch-size", "BatchSize", a->batch_size, 1, FN_ESM_BATCH_MAX },
                     { "window", "MaximumBatchingWindowInSeconds", a->window, 0,
                       FN_ESM_WINDOW_MAX } };
        for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
                unsigned n;
                if (!nums[i].v)
                        continue;
                if (uint_opt(nums[i].opt, nums[i].v, nums[i].min, nums[i].max, &n)) {
                        json_writer_free(j);
                        return 1;
                }
                json_kv_uint(j, nums[i].key, n);
        }
        if (a->report_failures) {
                json_key(j, "FunctionResponseTypes");
                json_arr_begin(j);
                json_str(j, "ReportBatchItemFailures");
                json_arr_end(j);
        }
        if (a->max_concurrency) {
                unsigned n;
                if (uint_opt("max-concurrency", a->max_concurrency, FN_ESM_CONCURRENCY_MIN,
                             FN_ESM_CONCURRENCY_MAX, &n)) {
                        json_writer_free(j);
                        return 1;
                }
                json_key(j, "ScalingConfig");
                json_obj_begin(j);
                json_kv_uint(j, "MaximumConcurrency", n);
                json_obj_end(j);
        }
        json_obj_end(j);
        _cleanup_free_ char *body = json_writer_finish(j);
        json_value *v = NULL;
        if (api_call(a, "lambda", "POST", "/2015-03-31/event-source-mappings/", NULL, body, &v))
                return 1;
        printf("%s\n", json_get_str(v, "UUID") ? json_get_str(v, "UUID") : "");
        json_value_free(v);
        return 0;
}

static int cmd_unmap(args *a)
{
        if (a->npos != 2)
                return fail("unmap needs one UUID");
        for (const char *p = a->pos[1]; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-'))
                        return fail("unmap %s: a mapping's UUID (husk fn maps)", a->pos[1]);
        _cleanup_free_ char *path = xasprintf("/2015-03-31/event-source-mappings/%s", a->pos[1]);
        json_value *v = NULL;
        if (api_call(a, "lambda", "DELETE", path, NULL, NULL, &v))
                return 1;
        json_value_free(v);
        return 0;
}

static const char *last_part(const char *arn)
{
        const char *c = arn ? strrchr(arn, ':') : NULL;
        return c ? c + 1 : (arn ? arn : "");
}

static int cmd_maps(args *a)
{
        if (a->npos != 1)
                return fail("maps takes no arguments");
        printf("%-36s  %-20s  %-24s  %-9s  %5s  %6s  %s\n", "UUID", "FUNCTION", "QUEUE", "STATE",
               "BATCH", "WINDOW", "OPTIONS");
        _cleanup_free_ char *marker = NULL;
        do {
                _cleanup_free_ char *path = xasprintf("/2015-03-31/event-source-mappings/%s%s",
                                                      marker ? "?Marker=" : "",
                                                      marker ? marker : "");
                json_value *v = NULL;
                if (api_call(a, "lambda", "GET", path, NULL, NULL, &v))
                        return 1;
                const json_value *l = json_get(v, "EventSourceMappings");
                for (size_t i = 0; l && l->type == JSON_ARRAY && i < l->n; i++) {
                        const json_value *m = l->items[i];
                        const json_value *b = json_get(m, "BatchSize"),
                                         *w = json_get(m, "MaximumBatchingWindowInSeconds"),
                                         *f = json_get(m, "FunctionResponseTypes"),
                                         *sc = json_get(json_get(m, "ScalingConfig"),
                                                        "MaximumConcurrency");
                        printf("%-36s  %-20s  %-24s  %-9s  %5s  %6s  %s%s%s\n",
                               json_get_str(m, "UUID") ?: "",
                               last_part(json_get_str(m, "FunctionArn")),
                               last_part(json_get_str(m, "EventSourceArn")),
                               json_get_str(m, "State") ?: "", b && b->str ? b->str : "",
                               w && w->str ? w->str : "",
                               f && f->type == JSON_ARRAY && f->n ? "report-failures " : "",
                               sc && sc->str ? "max-concurrency=" : "", sc && sc->str ? sc->str : "");
                }
                free(marker);
                marker = json_get_str(v, "NextMarker") ? xstrdup(json_get_str(v, "NextMarker"))
                                                       : NULL;
                json_value_free(v);
        } while (marker);
        return 0;
}

/* `husk fn stats [NAME]`: the functions' figures from the running server's /metrics. */
static int cmd_stats(args *a)
{
        if (a->npos > 2)
                return fail("stats takes at most one NAME") + 1;
        if (a->npos == 2 && !fn_name_valid(a->pos[1]))
                return fail("stats: '%s' is not a function name", a->pos[1]) + 1;
        const char *fmt = a->format ? a->format : "table";
        if (strcmp(fmt, "table") != 0 && strcmp(fmt, "json") != 0)
                return fail("--format %s: use table or json", fmt) + 1;
        _cleanup_free_ char *ep = cliclient_endpoint(a->store, a->endpoint);
        return statcli_functions(ep, a->npos == 2 ? a->pos[1] : NULL, strcmp(fmt, "json") == 0);
}

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) { /* `husk fn [--store DIR] schedule ...` */
                if (strcmp(argv[i], "--store") == 0 && ++i)
                        continue;
                if (argv[i][0] == '-' || strcmp(argv[i], "schedule") != 0)
                        break;
                memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(char *));
                return schedcli_main(argc - 2, argv + 1);
        }
        if (argc > 1 && strcmp(argv[1], "queue") == 0)
                return qcli_main(argc - 2, argv + 2);
        if (argc > 1 && strcmp(argv[1], "api") == 0)
                return apicli_main(argc - 2, argv + 2);
        args a = { 0 };
        int rc = cliclient_parse(&syntax, argc - 1, argv + 1, &a);
        if (rc)
                return rc;
        if (a.help || a.npos == 0) {
                fputs(usage_text, a.help ? stdout : stderr);
                free(a.env);
                return a.help ? 0 : 1;
        }
        const char *cmd = a.pos[0];
        if (strcmp(cmd, "create") == 0)
                rc = cmd_create(&a, true);
        else if (strcmp(cmd, "update") == 0)
                rc = cmd_create(&a, false);
        else if (strcmp(cmd, "ls") == 0 || strcmp(cmd, "list") == 0)
                rc = cmd_ls(&a);
        else if (strcmp(cmd, "inspect") == 0)
                rc = cmd_inspect(&a);
        else if (strcmp(cmd, "rm") == 0)
                rc = cmd_rm(&a);
        else if (strcmp(cmd, "image-users") == 0)
                rc = cmd_image_users(&a);
        else if (strcmp(cmd, "logs") == 0)
                rc = cmd_logs(&a);
        else if (strcmp(cmd, "serve") == 0 && a.npos == 2 && strcmp(a.pos[1], "credentials") == 0)
                rc = cmd_credentials(&a);
        else if (strcmp(cmd, "serve") == 0 && a.npos > 1)
                rc = fail("serve: unknown argument '%s' (serve takes options, or the word "
                          "credentials)", a.pos[1]) + 1;
        else if (strcmp(cmd, "serve") == 0)
                rc = cmd_serve(&a, argv);
        else if (strcmp(cmd, "invoke") == 0)
                rc = cmd_invoke(&a);
        else if (strcmp(cmd, "map") == 0)
                rc = cmd_map(&a);
        else if (strcmp(cmd, "unmap") == 0)
                rc = cmd_unmap(&a);
        else if (strcmp(cmd, "maps") == 0)
                rc = cmd_maps(&a);
        else if (strcmp(cmd, "stats") == 0)
                rc = cmd_stats(&a);
        else
                rc = fail("unknown command '%s' (husk fn --help)", cmd) + 1; /* usage: 2 */
        /* A user's husk fn (in the user's namespace): the last husk process ends the pause. */
        husk_rootless_stop_if_idle(husk_default_root(), store_of(&a));
        free(a.env);
        return rc;
}
