/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: SQLite state at STORE/fn/fn.db (WAL). Definitions are written by the command line
 * and read by the server; async invocations are committed with synchronous=FULL before the
 * front door answers 202, so a kill -9 (or a power loss) never loses an accepted one. One
 * connection per process, serialised by a mutex (the server's threads share it). */
#include "fn.h"
#include "../dbutil/columns.h"
#include "util/json.h"
#include "util/util.h"

#include <sqlite3.h>
#include <string.h>
#include <time.h>

struct fn_db {
        sqlite3 *s;
        pthread_mutex_t mu;
        /* fn_db_get's statement, prepared once: it runs on every invocation, and preparing its
         * 29 columns cost more than the read (measured: 12% of the host's CPU at 2k invokes/s). */
        sqlite3_stmt *get_st;
};

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS functions ("
        " name TEXT PRIMARY KEY, image TEXT NOT NULL, image_id TEXT NOT NULL,"
        " handler TEXT NOT NULL, memory_mb INTEGER NOT NULL, timeout_ms INTEGER NOT NULL,"
        " concurrency INTEGER NOT NULL, max_queue INTEGER NOT NULL, keep_warm_ms INTEGER NOT NULL,"
        " env TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS async ("
        " id TEXT PRIMARY KEY, function TEXT NOT NULL, payload BLOB NOT NULL,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL,"
        " created INTEGER NOT NULL, result TEXT);"
        "CREATE INDEX IF NOT EXISTS async_due ON async (state, next_at);"
        /* Event source mappings (issue 14): one queue feeds one function. */
        "CREATE TABLE IF NOT EXISTS esm ("
        " uuid TEXT PRIMARY KEY, queue_arn TEXT NOT NULL, function TEXT NOT NULL,"
        " batch_size INTEGER NOT NULL, window_s INTEGER NOT NULL,"
        " report_failures INTEGER NOT NULL, enabled INTEGER NOT NULL,"
        " max_concurrency INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
        " modified REAL NOT NULL, created INTEGER NOT NULL,"
        " UNIQUE (queue_arn, function));";

/* Columns added after the first release: a db made by an older husk-fn gets them with their
 * defaults when it is opened. */
static const db_column added[] = {
        { "functions", "pids", "INTEGER NOT NULL DEFAULT 1024" },
        { "functions", "log_max_size", "INTEGER NOT NULL DEFAULT 10485760" },
        { "functions", "log_rate", "INTEGER NOT NULL DEFAULT 1048576" },
        { "functions", "max_events", "INTEGER NOT NULL DEFAULT 1000" },
        { "async", "finished", "INTEGER NOT NULL DEFAULT 0" },
        /* Lambda's configuration (issue 14) */
        { "functions", "description", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "role", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "runtime", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "package_type", "TEXT NOT NULL DEFAULT 'Image'" },
        { "functions", "code_sha256", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "code_size", "INTEGER NOT NULL DEFAULT 0" },
        { "functions", "code_dir", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "entrypoint", "TEXT NOT NULL DEFAULT ''" }, /* JSON array, '': none */
        { "functions", "command", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "workdir", "TEXT NOT NULL DEFAULT ''" },
        { "functions", "ephemeral_mb", "INTEGER NOT NULL DEFAULT 512" },
        { "functions", "tags", "TEXT NOT NULL DEFAULT ''" }, /* JSON object, '': none */
        { "functions", "reserved", "INTEGER NOT NULL DEFAULT 0" },
};

static int dberr(fn_db *db, husk_error_t *err, int code, const char *what)
{
        return husk_error_set(err, code, "fn.db: %s: %s", what, sqlite3_errmsg(db->s));
}

int fn_db_open(const char *path, fn_db **ret, husk_error_t *err)
{
        fn_db *db = xcalloc(1, sizeof(*db));
        pthread_mutex_init(&db->mu, NULL);
        int r = sqlite3_open_v2(path, &db->s,
                                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                NULL);
        if (r != SQLITE_OK) {
                r = husk_error_set(err, EIO, "open %s: %s", path,
                                   db->s ? sqlite3_errmsg(db->s) : sqlite3_errstr(r));
                fn_db_close(db);
                return r;
        }
        sqlite3_busy_timeout(db->s, 10000);
        char *msg = NULL;
        if (sqlite3_exec(db->s,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                         &msg) != SQLITE_OK ||
            sqlite3_exec(db->s, schema, NULL, NULL, &msg) != SQLITE_OK ||
            db_add_columns(db->s, added, ARRAY_SIZE(added), &msg) < 0) {
                r = husk_error_set(err, EIO, "%s: %s", path, msg ? msg : "schema");
                sqlite3_free(msg);
                fn_db_close(db);
                return r;
        }
        *ret = db;
        return 0;
}

void fn_db_close(fn_db *db)
{
        if (!db)
                return;
        sqlite3_finalize(db->get_st);
        sqlite3_close(db->s);
        pthread_mutex_destroy(&db->mu);
        free(db);
}

void fn_def_free(fn_def *d)
{
        if (!d)
                return;
        free(d->name);
        free(d->image);
        free(d->image_id);
        free(d->handler);
        strv_free(d->env);
        free(d->description);
        free(d->role);
        free(d->runtime);
        free(d->package_type);
        free(d->code_sha256);
        free(d->code_dir);
        strv_free(d->entrypoint);
        strv_free(d->command);
        free(d->workdir);
        strv_free(d->tags);
        free(d);
}

fn_def *fn_def_new(const char *name)
{
        fn_def *d = xcalloc(1, sizeof(*d));
        d->name = xstrdup(name);
        d->image = xstrdup("");
        d->image_id = xstrdup("");
        d->handler = xstrdup("function.handler");
        d->memory_mb = 128;
        d->timeout_ms = 3000;
        d->concurrency = FN_CONCURRENCY_DEFAULT;
        d->max_queue = 64;
        d->keep_warm_ms = 600000;
        d->pids = FN_PIDS_DEFAULT;
        d->log_max_size = FN_LOG_MAX_DEFAULT;
        d->log_rate = FN_LOG_RATE_DEFAULT;
        d->max_events = FN_EVENT_QUEUE_DEFAULT;
        d->description = xstrdup("");
        d->role = xstrdup("");
        d->runtime = xstrdup("");
        d->package_type = xstrdup("Image");
        d->code_sha256 = xstrdup("");
        d->code_dir = xstrdup("");
        d->workdir = xstrdup("");
        d->ephemeral_mb = FN_EPHEMERAL_DEFAULT_MB;
        return d;
}

/* A string vector as a JSON array ("" for NULL); pairs: as an object of key, value pairs. */
static char *strv_to_json(char *const *v, bool pairs)
{
        if (!v)
                return xstrdup("");
        json_writer *w = json_writer_new(false);
        if (pairs) {
                json_obj_begin(w);
                for (size_t i = 0; v[i] && v[i + 1]; i += 2)
                        json_kv_str(w, v[i], v[i + 1]);
                json_obj_end(w);
        } else {
                json_arr_begin(w);
                for (size_t i = 0; v[i]; i++)
                        json_str(w, v[i]);
                json_arr_end(w);
        }
        return json_writer_finish(w);
}

static char **strv_from_json(const char *s, bool pairs)
{
        json_value *v = NULL;
        char why[64];
        if (!s || !*s || json_parse(s, strlen(s), &v, why, sizeof(why)) < 0)
                return NULL;
        char **out = xcalloc(2 * v->n + 1, sizeof(char *));
        size_t n = 0;
        for (size_t i = 0; i < v->n; i++) {
                if (v->items[i]->type != JSON_STRING)
                        continue;
                if (pairs && v->type == JSON_OBJECT)
                        out[n++] = xstrdup(v->keys[i]);
                else if (pairs || v->type != JSON_ARRAY)
                        continue;
                out[n++] = xstrdup(v->items[i]->str);
        }
        json_value_free(v);
        return out;
}

static const char *or_empty(const char *s)
{
        return s ? s : "";
}

static char *env_join(char *const *env)
{
        size_t n = 1;
        for (size_t i = 0; env && env[i]; i++)
                n += strlen(env[i]) + 1;
        char *s = xmalloc(n), *o = s;
        for (size_t i = 0; env && env[i]; i++)
                o += sprintf(o, "%s\n", env[i]);
        *o = '\0';
        return s;
}

static char **env_split(const char *s)
{
        size_t n = 0;
        char **v = xcalloc(1, sizeof(char *));
        while (s && *s) {
                const char *e = strchrnul(s, '\n');
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrndup(s, (size_t)(e - s));
                v[n] = NULL;
                s = *e ? e + 1 : e;
        }
        return v;
}

static void now_text(char *buf, size_t len)
{
        format_rfc3339(buf, len, true); /* ns: an update within the same second is seen */
}

int fn_db_put(fn_db *db, const fn_def *d, bool create, husk_error_t *err)
{
        static const char ins[] =
                "INSERT INTO functions (name, image, image_id, handler, memory_mb, timeout_ms,"
                " concurrency, max_queue, keep_warm_ms, env, created, updated, pids,"
                " log_max_size, log_rate, max_events, description, role, runtime, package_type,"
                " code_sha256, code_size, code_dir, entrypoint, command, workdir, ephemeral_mb,"
                " tags, reserved)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, ?15,"
                " ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)";
        static const char upd[] =
                "UPDATE functions SET image = ?2, image_id = ?3, handler = ?4, memory_mb = ?5,"
                " timeout_ms = ?6, concurrency = ?7, max_queue = ?8, keep_warm_ms = ?9,"
                " env = ?10, updated = ?11, pids = ?12, log_max_size = ?13, log_rate = ?14,"
                " max_events = ?15, description = ?16, role = ?17, runtime = ?18,"
                " package_type = ?19, code_sha256 = ?20, code_size = ?21, code_dir = ?22,"
                " entrypoint = ?23, command = ?24, workdir = ?25, ephemeral_mb = ?26, tags = ?27,"
                " reserved = ?28 WHERE name = ?1";
        char now[40];
        now_text(now, sizeof(now));
        /* One variable per line: a name or value with a line break would become two. */
        for (size_t i = 0; d->env && d->env[i]; i++) {
                char why[160];
                if (fn_env_check(d->env[i], why, sizeof(why)) < 0)
                        return husk_error_set(err, EINVAL, "function %s: %s", d->name, why);
        }
        if (!fn_text_printable(d->handler) || !fn_text_printable(d->image))
                return husk_error_set(err, EINVAL, "function %s: the handler and the image must "
                                      "not contain control characters", d->name);
        _cleanup_free_ char *env = env_join(d->env);
        _cleanup_free_ char *ep = strv_to_json(d->entrypoint, false);
        _cleanup_free_ char *cmd = strv_to_json(d->command, false);
        _cleanup_free_ char *tags = strv_to_json(d->tags, true);
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        int r = 0;
        if (sqlite3_prepare_v2(db->s, create ? ins : upd, -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->image, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, d->image_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, d->handler, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, d->memory_mb);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)d->timeout_ms);
        sqlite3_bind_int64(st, 7, d->concurrency);
        sqlite3_bind_int64(st, 8, d->max_queue);
        sqlite3_bind_int64(st, 9, (sqlite3_int64)d->keep_warm_ms);
        sqlite3_bind_text(st, 10, env, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, now, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, d->pids);
        sqlite3_bind_int64(st, 13, (sqlite3_int64)d->log_max_size);
        sqlite3_bind_int64(st, 14, (sqlite3_int64)d->log_rate);
        sqlite3_bind_int64(st, 15, d->max_events);
        sqlite3_bind_text(st, 16, or_empty(d->description), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 17, or_empty(d->role), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 18, or_empty(d->runtime), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 19, d->package_type ? d->package_type : "Image", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 20, or_empty(d->code_sha256), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 21, (sqlite3_int64)d->code_size);
        sqlite3_bind_text(st, 22, or_empty(d->code_dir), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 23, ep, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 24, cmd, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 25, or_empty(d->workdir), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 26, d->ephemeral_mb ? d->ephemeral_mb : FN_EPHEMERAL_DEFAULT_MB);
        sqlite3_bind_text(st, 27, tags, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 28, d->reserved);
        int s = sqlite3_step(st);
        if (s == SQLITE_CONSTRAINT)
                r = husk_error_set(err, EEXIST, "function %s already exists", d->name);
        else if (s != SQLITE_DONE)
                r = dberr(db, err, EIO, create ? "insert function" : "update function");
        else if (!create && sqlite3_changes(db->s) == 0)
                r = husk_error_set(err, ENOENT, "function %s not found", d->name);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

static char *col_text(sqlite3_stmt *st, int i)
{
        const unsigned char *t = sqlite3_column_text(st, i);
        return xstrdup(t ? (const char *)t : "");
}

static fn_def *row_def(sqlite3_stmt *st)
{
        fn_def *d = xcalloc(1, sizeof(*d));
        d->name = col_text(st, 0);
        d->image = col_text(st, 1);
        d->image_id = col_text(st, 2);
        d->handler = col_text(st, 3);
        d->memory_mb = (unsigned)sqlite3_column_int64(st, 4);
        d->timeout_ms = (uint64_t)sqlite3_column_int64(st, 5);
        d->concurrency = (unsigned)sqlite3_column_int64(st, 6);
        d->max_queue = (unsigned)sqlite3_column_int64(st, 7);
        d->keep_warm_ms = (uint64_t)sqlite3_column_int64(st, 8);
        const unsigned char *env = sqlite3_column_text(st, 9);
        d->env = env_split((const char *)env);
        const unsigned char *c = sqlite3_column_text(st, 10), *u = sqlite3_column_text(st, 11);
        snprintf(d->created, sizeof(d->created), "%s", c ? (const char *)c : "");
        snprintf(d->updated, sizeof(d->updated), "%s", u ? (const char *)u : "");
        d->pids = (unsigned)sqlite3_column_int64(st, 12);
        d->log_max_size = (uint64_t)sqlite3_column_int64(st, 13);
        d->log_rate = (uint64_t)sqlite3_column_int64(st, 14);
        d->max_events = (unsigned)sqlite3_column_int64(st, 15);
        d->description = col_text(st, 16);
        d->role = col_text(st, 17);
        d->runtime = col_text(st, 18);
        d->package_type = col_text(st, 19);
        d->code_sha256 = col_text(st, 20);
        d->code_size = (uint64_t)sqlite3_column_int64(st, 21);
        d->code_dir = col_text(st, 22);
        d->entrypoint = strv_from_json((const char *)sqlite3_column_text(st, 23), false);
        d->command = strv_from_json((const char *)sqlite3_column_text(st, 24), false);
        d->workdir = col_text(st, 25);
        d->ephemeral_mb = (unsigned)sqlite3_column_int64(st, 26);
        d->tags = strv_from_json((const char *)sqlite3_column_text(st, 27), true);
        d->reserved = sqlite3_column_int64(st, 28) != 0;
        if (!d->code_sha256[0] && strcmp(d->package_type, "Image") == 0) {
                /* A record made before issue 14: its CodeSha256 follows from the image id. */
                char *sum = fn_image_code_sha256(d->image_id);
                if (sum) {
                        free(d->code_sha256);
                        d->code_sha256 = sum;
                }
        }
        return d;
}

/* The readers of whole records (functions, event source mappings) share these: one row by its
 * key, or every row, each turned into a record by `row`. Called with db->mu held. */
typedef void *(*row_reader)(sqlite3_stmt *st);

/* keep: where the statement stays prepared between calls (NULL: prepared for this call). */
static int read_one(fn_db *db, sqlite3_stmt **keep, const char *sql, const char *key,
                    row_reader row, void **ret, const char *what, const char *missing,
                    husk_error_t *err)
{
        sqlite3_stmt *st = keep ? *keep : NULL;
        int r = 0;
        if (!st && sqlite3_prepare_v3(db->s, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st,
                                      NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW)
                *ret = row(st);
        else if (s == SQLITE_DONE)
                r = husk_error_set(err, ENOENT, "%s %s", missing, key);
        else
                r = dberr(db, err, EIO, what);
out:
        if (keep && st) {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                *keep = st;
        } else {
                sqlite3_finalize(st);
        }
        return r;
}

static int read_all(fn_db *db, const char *sql, row_reader row, void (*free_one)(void *),
                    void ***ret, size_t *ret_n, const char *what, husk_error_t *err)
{
        sqlite3_stmt *st = NULL;
        void **v = NULL;
        size_t n = 0;
        int r = 0, s;
        if (sqlite3_prepare_v2(db->s, sql, -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = row(st);
        }
        if (s != SQLITE_DONE) {
                r = dberr(db, err, EIO, what);
                for (size_t i = 0; i < n; i++)
                        free_one(v[i]);
                free(TAKE_PTR(v));
                n = 0;
        }
out:
        sqlite3_finalize(st);
        if (r == 0) {
                *ret = v;
                *ret_n = n;
        }
        return r;
}

static void *row_def_any(sqlite3_stmt *st)
{
        return row_def(st);
}

static void def_free_any(void *p)
{
        fn_def_free(p);
}

#define DEF_COLS                                                                                   \
        "name, image, image_id, handler, memory_mb, timeout_ms, concurrency, max_queue,"          \
        " keep_warm_ms, env, created, updated, pids, log_max_size, log_rate, max_events,"        \
        " description, role, runtime, package_type, code_sha256, code_size, code_dir,"          \
        " entrypoint, command, workdir, ephemeral_mb, tags, reserved"

int fn_db_get(fn_db *db, const char *name, fn_def **ret, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        void *d = NULL;
        int r = read_one(db, &db->get_st, "SELECT " DEF_COLS " FROM functions WHERE name = ?1",
                         name, row_def_any, &d, "read function", "Function not found:", err);
        pthread_mutex_unlock(&db->mu);
        if (r == 0)
                *ret = d;
        return r;
}

int fn_db_list(fn_db *db, fn_def ***ret, size_t *ret_n, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        void **v = NULL;
        int r = read_all(db, "SELECT " DEF_COLS " FROM functions ORDER BY name", row_def_any,
                         def_free_any, &v, ret_n, "list functions", err);
        pthread_mutex_unlock(&db->mu);
        if (r == 0)
                *ret = (fn_def **)v;
        return r;
}

/* One statement with text binds, no result rows; returns sqlite3_changes or a negative error. */
static int exec1(fn_db *db, const char *sql, const char *a, const char *b, husk_error_t *err)
{
        sqlite3_stmt *st = NULL;
        int r;
        if (sqlite3_prepare_v2(db->s, sql, -1, &st, NULL) != SQLITE_OK)
                return dberr(db, err, EIO, "prepare");
        if (a)
                sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
                sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db->s) : dberr(db, err, EIO, sql);
        sqlite3_finalize(st);
        return r;
}

int fn_db_rm(fn_db *db, const char *name, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        int r = exec1(db, "DELETE FROM functions WHERE name = ?1", name, NULL, err);
        if (r == 0)
                r = husk_error_set(err, ENOENT, "function %s not found", name);
        /* Its events go with it: a new function of the same name must not run them. */
        if (r > 0)
                r = exec1(db, "DELETE FROM async WHERE function = ?1", name, NULL, err);
        pthread_mutex_unlock(&db->mu);
        return r < 0 ? r : 0;
}

void fn_async_free(fn_async *a)
{
        if (!a)
                return;
        free(a->function);
        free(a->payload);
}

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_or_wall(uint64_t now_ms)
{
        return now_ms ? (int64_t)now_ms : wall_ms();
}

static int count_unfinished(fn_db *db, const char *function, unsigned *ret, husk_error_t *err)
{
        sqlite3_stmt *st = NULL;
        int r = 0;
        if (sqlite3_prepare_v2(db->s,
                               "SELECT count(*) FROM async WHERE function = ?1 AND state IN"
                               " ('pending', 'running')",
                               -1, &st, NULL) != SQLITE_OK)
                return dberr(db, err, EIO, "prepare");
        sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
                *ret = (unsigned)sqlite3_column_int64(st, 0);
        else
                r = dberr(db, err, EIO, "count events");
        sqlite3_finalize(st);
        return r;
}

int fn_db_async_add(fn_db *db, const char *id, const char *function, const char *payload,
                    size_t len, unsigned max_unfinished, uint64_t now_ms, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        unsigned queued = 0;
        /* The count and the insert under one lock: this process is the only writer of rows. */
        int r = count_unfinished(db, function, &queued, err);
        if (r < 0)
                goto out;
        if (queued >= max_unfinished) {
                r = husk_error_set(err, EAGAIN, "Rate Exceeded: function %s has %u events waiting "
                                   "or running, its limit (husk fn update %s --max-events N)",
                                   function, queued, function);
                goto out;
        }
        if (sqlite3_prepare_v2(db->s,
                               "INSERT INTO async (id, function, payload, state, attempts, next_at,"
                               " created) VALUES (?1, ?2, ?3, 'pending', 0, 0, ?4)",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, function, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, len ? payload : "", (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_or_wall(now_ms));
        if (sqlite3_step(st) != SQLITE_DONE)
                r = dberr(db, err, EIO, "queue the invocation");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

int fn_db_async_claim(fn_db *db, uint64_t now_ms, size_t max, fn_async **ret, size_t *ret_n,
                      husk_error_t *err)
{
        int64_t now = now_or_wall(now_ms);
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        fn_async *v = NULL;
        size_t n = 0;
        int r = 0, s;
        if (sqlite3_exec(db->s, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "begin");
                goto out;
        }
        /* Lambda keeps an event at most 6 hours: an older one fails without running. */
        if (sqlite3_prepare_v2(db->s,
                               "UPDATE async SET state = 'failed', payload = x'', finished = ?1,"
                               " result = '{\"errorMessage\":\"the event expired: it waited more"
                               " than 6 hours\",\"errorType\":\"EventAgeExceeded\"}'"
                               " WHERE state = 'pending' AND created < ?2",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto rollback;
        }
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, now - (int64_t)FN_EVENT_MAX_AGE_MS);
        s = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        if (s != SQLITE_DONE) {
                r = dberr(db, err, EIO, "expire events");
                goto rollback;
        }
        if (sqlite3_prepare_v2(db->s,
                               "SELECT id, function, payload, attempts FROM async WHERE state ="
                               " 'pending' AND next_at <= ?1 ORDER BY created, rowid LIMIT ?2",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto rollback;
        }
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
                v = xrealloc(v, (n + 1) * sizeof(*v));
                fn_async *a = &v[n++];
                memset(a, 0, sizeof(*a));
                snprintf(a->id, sizeof(a->id), "%s", sqlite3_column_text(st, 0));
                a->function = col_text(st, 1);
                a->len = (size_t)sqlite3_column_bytes(st, 2);
                a->payload = xmalloc(a->len + 1);
                if (a->len)
                        memcpy(a->payload, sqlite3_column_blob(st, 2), a->len);
                a->payload[a->len] = '\0';
                a->attempts = (unsigned)sqlite3_column_int64(st, 3) + 1;
        }
        sqlite3_finalize(st);
        st = NULL;
        for (size_t i = 0; i < n && r == 0; i++)
                if (exec1(db, "UPDATE async SET state = 'running', attempts = attempts + 1"
                              " WHERE id = ?1", v[i].id, NULL, err) < 0)
                        r = -EIO;
        if (r == 0 && sqlite3_exec(db->s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                r = dberr(db, err, EIO, "commit");
rollback:
        if (r < 0) {
                sqlite3_exec(db->s, "ROLLBACK", NULL, NULL, NULL);
                for (size_t i = 0; i < n; i++)
                        fn_async_free(&v[i]);
                free(TAKE_PTR(v));
                n = 0;
        }
out:
        pthread_mutex_unlock(&db->mu);
        if (r == 0) {
                *ret = v;
                *ret_n = n;
        }
        return r;
}

int fn_db_async_finish(fn_db *db, const char *id, bool ok, int64_t next_ms, const char *result,
                       husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        int r = 0;
        const char *state = ok ? "done" : next_ms >= 0 ? "pending" : "failed";
        bool finished = ok || next_ms < 0;
        /* A finished row is history: its payload goes, a bounded part of its result stays. */
        if (sqlite3_prepare_v2(db->s,
                               finished ? "UPDATE async SET state = ?2, next_at = ?3, result = ?4,"
                                          " payload = x'', finished = ?5 WHERE id = ?1"
                                        : "UPDATE async SET state = ?2, next_at = ?3, result = ?4"
                                          " WHERE id = ?1",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        int64_t now = wall_ms();
        size_t rlen = result ? strlen(result) : 0;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, next_ms >= 0 ? now + next_ms : 0);
        if (result)
                sqlite3_bind_text(st, 4, result,
                                  (int)(rlen > FN_EVENT_RESULT_MAX ? FN_EVENT_RESULT_MAX : rlen),
                                  SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 4);
        if (finished)
                sqlite3_bind_int64(st, 5, now);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = dberr(db, err, EIO, "finish the invocation");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

int fn_db_async_purge(fn_db *db, uint64_t now_ms, unsigned keep, uint64_t keep_ms,
                      husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        int r = 0;
        /* Older than keep_ms, or past the newest `keep` finished rows of its function. */
        if (sqlite3_prepare_v2(db->s,
                               "DELETE FROM async WHERE state IN ('done', 'failed') AND"
                               " (finished < ?1 OR rowid IN (SELECT rowid FROM (SELECT rowid,"
                               " row_number() OVER (PARTITION BY function ORDER BY finished DESC,"
                               " rowid DESC) AS n FROM async WHERE state IN ('done', 'failed'))"
                               " WHERE n > ?2))",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_int64(st, 1, now_or_wall(now_ms) - (int64_t)keep_ms);
        sqlite3_bind_int64(st, 2, keep);
        if (sqlite3_step(st) != SQLITE_DONE)
                r = dberr(db, err, EIO, "purge finished events");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

int fn_db_async_release(fn_db *db, const char *id, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        int r = exec1(db, "UPDATE async SET state = 'pending', attempts = max(attempts - 1, 0)"
                          " WHERE id = ?1 AND state = 'running'", id, NULL, err);
        pthread_mutex_unlock(&db->mu);
        return r < 0 ? r : 0;
}

int fn_db_async_recover(fn_db *db, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        int r = exec1(db, "UPDATE async SET state = 'pending' WHERE state = 'running'", NULL, NULL,
                      err);
        pthread_mutex_unlock(&db->mu);
        return r < 0 ? r : 0;
}

int fn_db_async_counts(fn_db *db, const char *function, unsigned counts[4], husk_error_t *err)
{
        static const char *const states[4] = { "pending", "running", "done", "failed" };
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        int r = 0, s;
        memset(counts, 0, 4 * sizeof(unsigned));
        if (sqlite3_prepare_v2(db->s,
                               "SELECT state, count(*) FROM async WHERE function = ?1 GROUP BY state",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_text(st, 1, function, -1, SQLITE_STATIC);
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
                const char *t = (const char *)sqlite3_column_text(st, 0);
                for (int i = 0; i < 4; i++)
                        if (t && strcmp(t, states[i]) == 0)
                                counts[i] = (unsigned)sqlite3_column_int64(st, 1);
        }
        if (s != SQLITE_DONE)
                r = dberr(db, err, EIO, "count invocations");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

/* ---------------------------------------------------------------- event source mappings */

void fn_esm_rec_free(fn_esm_rec *m)
{
        if (!m)
                return;
        free(m->queue_arn);
        free(m->function);
        free(m->reason);
        free(m);
}

static double wall_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        /* Lambda reports milliseconds. */
        return (double)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000) / 1000.0;
}

#define ESM_COLS                                                                                   \
        "uuid, queue_arn, function, batch_size, window_s, report_failures, enabled,"             \
        " max_concurrency, state, reason, modified"

static fn_esm_rec *row_esm(sqlite3_stmt *st)
{
        fn_esm_rec *m = xcalloc(1, sizeof(*m));
        const unsigned char *u = sqlite3_column_text(st, 0), *state = sqlite3_column_text(st, 8);
        snprintf(m->uuid, sizeof(m->uuid), "%s", u ? (const char *)u : "");
        m->queue_arn = col_text(st, 1);
        m->function = col_text(st, 2);
        m->batch_size = (unsigned)sqlite3_column_int64(st, 3);
        m->window_s = (unsigned)sqlite3_column_int64(st, 4);
        m->report_failures = sqlite3_column_int64(st, 5) != 0;
        m->enabled = sqlite3_column_int64(st, 6) != 0;
        m->max_concurrency = (unsigned)sqlite3_column_int64(st, 7);
        snprintf(m->state, sizeof(m->state), "%s", state ? (const char *)state : "");
        m->reason = col_text(st, 9);
        m->modified = sqlite3_column_double(st, 10);
        return m;
}

int fn_db_esm_put(fn_db *db, fn_esm_rec *m, bool create, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        int r = 0;
        m->modified = wall_s();
        const char *sql =
                create ? "INSERT INTO esm (" ESM_COLS ", created) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                         " ?7, ?8, ?9, ?10, ?11, ?12)"
                       : "UPDATE esm SET queue_arn = ?2, function = ?3, batch_size = ?4,"
                         " window_s = ?5, report_failures = ?6, enabled = ?7,"
                         " max_concurrency = ?8, state = ?9, reason = ?10, modified = ?11"
                         " WHERE uuid = ?1";
        if (sqlite3_prepare_v2(db->s, sql, -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_text(st, 1, m->uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->queue_arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, m->function, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, m->batch_size);
        sqlite3_bind_int64(st, 5, m->window_s);
        sqlite3_bind_int64(st, 6, m->report_failures);
        sqlite3_bind_int64(st, 7, m->enabled);
        sqlite3_bind_int64(st, 8, m->max_concurrency);
        sqlite3_bind_text(st, 9, m->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, m->reason ? m->reason : "", -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 11, m->modified);
        if (create)
                sqlite3_bind_int64(st, 12, wall_ms());
        int s = sqlite3_step(st);
        if (s == SQLITE_CONSTRAINT || sqlite3_extended_errcode(db->s) == SQLITE_CONSTRAINT_UNIQUE)
                r = husk_error_set(err, EEXIST, "a mapping of %s to %s exists", m->queue_arn,
                                   m->function);
        else if (s != SQLITE_DONE)
                r = dberr(db, err, EIO, "write event source mapping");
        else if (!create && sqlite3_changes(db->s) == 0)
                r = husk_error_set(err, ENOENT, "event source mapping %s not found", m->uuid);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

int fn_db_esm_state(fn_db *db, const char *uuid, const char *from, const char *to,
                    const char *reason, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        sqlite3_stmt *st = NULL;
        int r = 0;
        if (sqlite3_prepare_v2(db->s,
                               "UPDATE esm SET state = ?3, reason = coalesce(?4, reason),"
                               " modified = ?5 WHERE uuid = ?1 AND state = ?2",
                               -1, &st, NULL) != SQLITE_OK) {
                r = dberr(db, err, EIO, "prepare");
                goto out;
        }
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
        if (reason)
                sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, wall_s());
        if (sqlite3_step(st) != SQLITE_DONE)
                r = dberr(db, err, EIO, "write event source mapping state");
        else
                r = sqlite3_changes(db->s);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&db->mu);
        return r;
}

static void *row_esm_any(sqlite3_stmt *st)
{
        return row_esm(st);
}

static void esm_free_any(void *p)
{
        fn_esm_rec_free(p);
}

int fn_db_esm_get(fn_db *db, const char *uuid, fn_esm_rec **ret, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        void *m = NULL;
        int r = read_one(db, NULL, "SELECT " ESM_COLS " FROM esm WHERE uuid = ?1", uuid, row_esm_any, &m,
                         "read event source mapping", "event source mapping not found:", err);
        pthread_mutex_unlock(&db->mu);
        if (r == 0)
                *ret = m;
        return r;
}

int fn_db_esm_list(fn_db *db, fn_esm_rec ***ret, size_t *ret_n, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        void **v = NULL;
        int r = read_all(db, "SELECT " ESM_COLS " FROM esm ORDER BY created, uuid", row_esm_any,
                         esm_free_any, &v, ret_n, "list event source mappings", err);
        pthread_mutex_unlock(&db->mu);
        if (r == 0)
                *ret = (fn_esm_rec **)v;
        return r;
}

int fn_db_esm_rm(fn_db *db, const char *uuid, husk_error_t *err)
{
        pthread_mutex_lock(&db->mu);
        int r = exec1(db, "DELETE FROM esm WHERE uuid = ?1", uuid, NULL, err);
        pthread_mutex_unlock(&db->mu);
        return r < 0 ? r : 0;
}
