/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP APIs' model in SQLite (STORE/gw/gw.db). A control plane: few writes, each in its own
 * transaction with synchronous=FULL. Every record is a JSON document (model.c) in a table keyed
 * by (api, id); APIs are rows of "apis" with api ''. A deployment keeps a frozen copy of the
 * API's routes and integrations at the time it was made: a stage serves its deployment, as in
 * API Gateway, and a stage with AutoDeploy gets a new deployment at every change of the API.
 *
 * What quick create made is ApiGatewayManaged: a column `managed` of routes, integrations and
 * stages (added to a store made before it when it is opened), not a member of the document, so
 * that no update of the document can set or clear it.
 *
 * One connection, serialised by a mutex; the snapshot (match.c) is rebuilt from it when the
 * generation moved. */
#include "gwint.h"
#include "../dbutil/columns.h"
#include "util/util.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS apis (api TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (api, id));"
        "CREATE TABLE IF NOT EXISTS routes (api TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
        " norm TEXT NOT NULL, PRIMARY KEY (api, id), UNIQUE (api, norm));"
        "CREATE TABLE IF NOT EXISTS integrations (api TEXT NOT NULL, id TEXT NOT NULL,"
        " doc TEXT NOT NULL, PRIMARY KEY (api, id));"
        "CREATE TABLE IF NOT EXISTS stages (api TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
        " PRIMARY KEY (api, id));"
        "CREATE TABLE IF NOT EXISTS deployments (api TEXT NOT NULL, id TEXT NOT NULL,"
        " doc TEXT NOT NULL, auto INTEGER NOT NULL, frozen TEXT NOT NULL, PRIMARY KEY (api, id));";

/* Columns added after the first release, as src/fn/db.c adds its own: a store made by an older
 * husk gets them, with their defaults, when it is opened. */
static const db_column added[] = {
        /* ApiGatewayManaged: 1 for what quick create made */
        { "routes", "managed", "INTEGER NOT NULL DEFAULT 0" },
        { "integrations", "managed", "INTEGER NOT NULL DEFAULT 0" },
        { "stages", "managed", "INTEGER NOT NULL DEFAULT 0" },
};

/* The tables whose records may be ApiGatewayManaged. */
static bool has_managed(const char *table)
{
        return strcmp(table, "routes") == 0 || strcmp(table, "integrations") == 0 ||
               strcmp(table, "stages") == 0;
}

/* Implemented in match.c; the store keeps the newest. */
gw_snapshot *gw_snapshot_build(gw_store *s, uint64_t gen, gw_error *err);
void gw_snapshot_ref(gw_snapshot *snap);
uint64_t gw_snapshot_gen(const gw_snapshot *snap);

struct gw_store {
        pthread_mutex_t mu; /* the connection and the server fields */
        sqlite3 *db;
        _Atomic uint64_t gen;
        char region[64];
        char endpoint[256];
        pthread_mutex_t snap_mu; /* the cached snapshot */
        gw_snapshot *snap;
};

/* ---------------------------------------------------------------- small things */

static void now_rfc3339(char out[32])
{
        format_rfc3339(out, 32, false);
}

static void random_id(char *out, size_t n)
{
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char b[32];
        if (RAND_bytes(b, (int)n) != 1)
                while (getrandom(b, n, 0) != (ssize_t)n)
                        ;
        for (size_t i = 0; i < n; i++)
                out[i] = alphabet[b[i] % 36]; /* 256 % 36 = 4: a bias of no consequence for ids */
        out[n] = '\0';
}

static int dberr(gw_store *s, gw_error *err, const char *what)
{
        return gw_seterr(err, GW_E_INTERNAL, "gateway store: %s: %s", what, sqlite3_errmsg(s->db));
}

static int begin(gw_store *s, gw_error *err)
{
        pthread_mutex_lock(&s->mu);
        if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
                dberr(s, err, "begin");
                pthread_mutex_unlock(&s->mu);
                return -1;
        }
        return 0;
}

/* Ends what begin() started: commits when rc is 0 (and bumps the generation), else rolls back. */
static int end(gw_store *s, int rc, gw_error *err)
{
        if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                rc = dberr(s, err, "commit");
        if (rc != 0)
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        else
                atomic_fetch_add(&s->gen, 1);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

static sqlite3_stmt *prep(gw_store *s, const char *sql, gw_error *err)
{
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
                dberr(s, err, "prepare");
                return NULL;
        }
        return st;
}

static void bind_texts(sqlite3_stmt *st, const char *a, const char *b, const char *c,
                       const char *d)
{
        const char *v[] = { a, b, c, d };
        for (int i = 0; i < 4; i++)
                if (v[i])
                        sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
}

/* Runs one statement with up to four text parameters. 0, or -1. */
static int exec4(gw_store *s, const char *sql, const char *a, const char *b, const char *c,
                 const char *d, gw_error *err)
{
        sqlite3_stmt *st = prep(s, sql, err);
        if (!st)
                return -1;
        bind_texts(st, a, b, c, d);
        int r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r != SQLITE_DONE) {
                if (r == SQLITE_CONSTRAINT || (r & 0xff) == SQLITE_CONSTRAINT)
                        return gw_seterr(err, GW_E_CONFLICT, "conflict");
                return dberr(s, err, "write");
        }
        return 0;
}

/* The managed column joins the parsed document as its last member "managed" (json_get: the last
 * of duplicates wins, so a document cannot claim it), where gw_*_read takes it. */
static void doc_set_managed(json_value *v, bool managed)
{
        if (!v || v->type != JSON_OBJECT)
                return;
        json_value *b = xcalloc(1, sizeof(*b));
        b->type = JSON_BOOL;
        b->boolean = managed;
        v->keys = xrealloc(v->keys, (v->n + 1) * sizeof(*v->keys));
        v->items = xrealloc(v->items, (v->n + 1) * sizeof(*v->items));
        v->keys[v->n] = xstrdup("managed");
        v->items[v->n++] = b;
}

/* The doc of (table, api, id) parsed: 0, -ENOENT, or -1 with err. */
static int load(gw_store *s, const char *table, const char *api, const char *id, json_value **ret,
                gw_error *err)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT doc, %s FROM %s WHERE api = ?1 AND id = ?2",
                 has_managed(table) ? "managed" : "0", table);
        sqlite3_stmt *st = prep(s, sql, err);
        if (!st)
                return -1;
        bind_texts(st, api, id, NULL, NULL);
        int r = sqlite3_step(st), rc = -ENOENT;
        if (r == SQLITE_ROW) {
                const char *doc = (const char *)sqlite3_column_text(st, 0);
                char why[128];
                rc = doc && json_parse(doc, strlen(doc), ret, why, sizeof(why)) == 0
                             ? 0
                             : gw_seterr(err, GW_E_INTERNAL, "gateway store: %s %s: damaged",
                                         table, id);
                if (rc == 0 && has_managed(table))
                        doc_set_managed(*ret, sqlite3_column_int(st, 1) != 0);
        } else if (r != SQLITE_DONE) {
                rc = dberr(s, err, "read");
        }
        sqlite3_finalize(st);
        return rc;
}

/* Every doc of (table, api), in creation order. */
static int load_all(gw_store *s, const char *table, const char *api, json_value ***ret,
                    size_t *ret_n, gw_error *err)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT doc, %s FROM %s WHERE api = ?1 ORDER BY rowid",
                 has_managed(table) ? "managed" : "0", table);
        sqlite3_stmt *st = prep(s, sql, err);
        if (!st)
                return -1;
        bind_texts(st, api, NULL, NULL, NULL);
        json_value **v = NULL;
        size_t n = 0;
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                const char *doc = (const char *)sqlite3_column_text(st, 0);
                json_value *j = NULL;
                char why[128];
                if (!doc || json_parse(doc, strlen(doc), &j, why, sizeof(why)) < 0)
                        continue; /* a damaged row is skipped, not fatal for the others */
                if (has_managed(table))
                        doc_set_managed(j, sqlite3_column_int(st, 1) != 0);
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = j;
        }
        sqlite3_finalize(st);
        if (r != SQLITE_DONE) {
                for (size_t i = 0; i < n; i++)
                        json_value_free(v[i]);
                free(v);
                return dberr(s, err, "list");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void free_docs(json_value **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                json_value_free(v[i]);
        free(v);
}

static int count(gw_store *s, const char *table, const char *api, int64_t *ret, gw_error *err)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE api = ?1", table);
        sqlite3_stmt *st = prep(s, sql, err);
        if (!st)
                return -1;
        bind_texts(st, api, NULL, NULL, NULL);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return r == SQLITE_ROW ? 0 : dberr(s, err, "count");
}

static bool exists(gw_store *s, const char *table, const char *api, const char *id)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE api = ?1 AND id = ?2", table);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return false;
        bind_texts(st, api, id, NULL, NULL);
        bool r = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return r;
}

/* A fresh id of len characters, unused in table under api. */
static void fresh_id(gw_store *s, const char *table, const char *api, char *out, size_t len)
{
        do
                random_id(out, len);
        while (exists(s, table, api, out));
}

static int api_missing(gw_store *s, const char *api_id, gw_error *err)
{
        if (api_id && exists(s, "apis", "", api_id))
                return 0;
        return gw_seterr(err, GW_E_NOT_FOUND, "Invalid API identifier specified %.64s",
                         api_id ? api_id : "");
}

/* Whether (table, api, id) is ApiGatewayManaged. */
static bool is_managed(gw_store *s, const char *table, const char *api, const char *id)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT managed FROM %s WHERE api = ?1 AND id = ?2", table);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return false;
        bind_texts(st, api, id, NULL, NULL);
        bool r = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
        sqlite3_finalize(st);
        return r;
}

/* The id of the API's managed record of table (quick create made one of each) into out: 0, or
 * -ENOENT when there is none. */
static int managed_id(gw_store *s, const char *table, const char *api, char *out, size_t len)
{
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE api = ?1 AND managed = 1"
                 " ORDER BY rowid LIMIT 1", table);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -ENOENT;
        bind_texts(st, api, NULL, NULL, NULL);
        int rc = -ENOENT;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
                snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
                rc = 0;
        }
        sqlite3_finalize(st);
        return rc;
}

static int mark_managed(gw_store *s, const char *table, const char *api, const char *id,
                        gw_error *err)
{
        char sql[96];
        snprintf(sql, sizeof(sql), "UPDATE %s SET managed = 1 WHERE api = ?1 AND id = ?2", table);
        return exec4(s, sql, api, id, NULL, NULL, err);
}

/* ---------------------------------------------------------------- open, close */

int gw_store_open(const char *path, gw_store **ret, gw_error *err)
{
        gw_store *s = xcalloc(1, sizeof(*s));
        pthread_mutex_init(&s->mu, NULL);
        pthread_mutex_init(&s->snap_mu, NULL);
        snprintf(s->region, sizeof(s->region), "us-east-1");
        int r = sqlite3_open_v2(path, &s->db,
                                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                NULL);
        char *msg = NULL;
        if (r != SQLITE_OK) {
                gw_seterr(err, GW_E_INTERNAL, "open %s: %s", path,
                          s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(r));
                goto fail;
        }
        sqlite3_busy_timeout(s->db, 10000);
        /* EXCLUSIVE: the store belongs to one server at a time (a second one on the same store
         * fails here instead of overwriting the first one's changes). */
        if (sqlite3_exec(s->db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                         " PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK ||
            db_add_columns(s->db, added, ARRAY_SIZE(added), &msg) < 0 ||
            sqlite3_exec(s->db, "BEGIN IMMEDIATE; COMMIT;", NULL, NULL, &msg) != SQLITE_OK) {
                gw_seterr(err, GW_E_INTERNAL, "%s: %s", path, msg ? msg : "schema");
                sqlite3_free(msg);
                goto fail;
        }
        atomic_store(&s->gen, 1);
        *ret = s;
        return 0;
fail:
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->snap_mu);
        free(s);
        return -1;
}

void gw_store_close(gw_store *s)
{
        if (!s)
                return;
        gw_snapshot_unref(s->snap);
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->snap_mu);
        free(s);
}

uint64_t gw_store_generation(gw_store *s)
{
        return atomic_load(&s->gen);
}

void gw_store_set_server(gw_store *s, const char *region, const char *endpoint)
{
        pthread_mutex_lock(&s->mu);
        if (region)
                snprintf(s->region, sizeof(s->region), "%s", region);
        snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint ? endpoint : "");
        pthread_mutex_unlock(&s->mu);
}

void gw_store_server(gw_store *s, char *region, size_t region_len, char *endpoint,
                     size_t endpoint_len)
{
        pthread_mutex_lock(&s->mu);
        if (region)
                snprintf(region, region_len, "%s", s->region);
        if (endpoint)
                snprintf(endpoint, endpoint_len, "%s", s->endpoint);
        pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------------- deployments (frozen) */

/* The routes and integrations of the API as one document. */
static int freeze(gw_store *s, const char *api_id, char **ret, gw_error *err)
{
        json_value **r = NULL, **in = NULL;
        size_t nr = 0, ni = 0;
        if (load_all(s, "routes", api_id, &r, &nr, err) < 0)
                return -1;
        if (load_all(s, "integrations", api_id, &in, &ni, err) < 0) {
                free_docs(r, nr);
                return -1;
        }
        json_writer *j = json_writer_new(false);
        json_obj_begin(j);
        json_key(j, "routes");
        json_arr_begin(j);
        for (size_t i = 0; i < nr; i++) {
                gw_route *x = NULL;
                if (gw_route_read(r[i], &x) == 0)
                        gw_route_write(j, x);
                gw_route_free(x);
        }
        json_arr_end(j);
        json_key(j, "integrations");
        json_arr_begin(j);
        for (size_t i = 0; i < ni; i++) {
                gw_integration *x = NULL;
                if (gw_integration_read(in[i], &x) == 0)
                        gw_integration_write(j, x);
                gw_integration_free(x);
        }
        json_arr_end(j);
        json_obj_end(j);
        free_docs(r, nr);
        free_docs(in, ni);
        *ret = json_writer_finish(j);
        return 0;
}

static bool deployment_in_use(gw_store *s, const char *api_id, const char *dep_id)
{
        json_value **v = NULL;
        size_t n = 0;
        gw_error e;
        if (load_all(s, "stages", api_id, &v, &n, &e) < 0)
                return true;
        bool used = false;
        for (size_t i = 0; i < n && !used; i++) {
                const char *d = json_get_str(v[i], "deployment");
                used = d && strcmp(d, dep_id) == 0;
        }
        free_docs(v, n);
        return used;
}

/* Past GW_DEPLOYMENTS_MAX: the oldest automatic deployment no stage uses goes. -1 with
 * GW_E_LIMIT when none can. */
static int make_room(gw_store *s, const char *api_id, gw_error *err)
{
        int64_t n = 0;
        if (count(s, "deployments", api_id, &n, err) < 0)
                return -1;
        if (n < GW_DEPLOYMENTS_MAX)
                return 0;
        sqlite3_stmt *st = prep(s, "SELECT id FROM deployments WHERE api = ?1 AND auto = 1"
                                   " ORDER BY rowid", err);
        if (!st)
                return -1;
        bind_texts(st, api_id, NULL, NULL, NULL);
        char victim[GW_SUBID_LEN + 1] = "";
        while (!*victim && sqlite3_step(st) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                if (id && !deployment_in_use(s, api_id, id))
                        snprintf(victim, sizeof(victim), "%s", id);
        }
        sqlite3_finalize(st);
        if (!*victim)
                return gw_seterr(err, GW_E_LIMIT, "an API keeps at most %d deployments "
                                 "(GW_DEPLOYMENTS_MAX): delete some", GW_DEPLOYMENTS_MAX);
        return exec4(s, "DELETE FROM deployments WHERE api = ?1 AND id = ?2", api_id, victim,
                     NULL, NULL, err);
}

/* A new deployment of the API's current routes and integrations into d (its id and time
 * filled). */
static int deploy(gw_store *s, const char *api_id, gw_deployment *d, gw_error *err)
{
        if (make_room(s, api_id, err) < 0)
                return -1;
        _cleanup_free_ char *frozen = NULL;
        if (freeze(s, api_id, &frozen, err) < 0)
                return -1;
        fresh_id(s, "deployments", api_id, d->id, GW_SUBID_LEN);
        now_rfc3339(d->created);
        if (!d->status)
                d->status = xstrdup("DEPLOYED");
        json_writer *j = json_writer_new(false);
        gw_deployment_write(j, d);
        _cleanup_free_ char *doc = json_writer_finish(j);
        return exec4(s, "INSERT INTO deployments (api, id, doc, auto, frozen) VALUES"
                        " (?1, ?2, ?3, ?4, '')", api_id, d->id, doc,
                     d->auto_deployed ? "1" : "0", err) < 0
                       ? -1
                       : exec4(s, "UPDATE deployments SET frozen = ?3 WHERE api = ?1 AND id = ?2",
                               api_id, d->id, frozen, NULL, err);
}

static int put_stage(gw_store *s, const char *api_id, const gw_stage *st, bool insert,
                     gw_error *err);

/* After a change of the API: every stage with AutoDeploy gets a new deployment (one for all). */
static int auto_deploy(gw_store *s, const char *api_id, gw_error *err)
{
        json_value **v = NULL;
        size_t n = 0;
        if (load_all(s, "stages", api_id, &v, &n, err) < 0)
                return -1;
        gw_deployment d = { .auto_deployed = true };
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
                gw_stage *st = NULL;
                if (gw_stage_read(v[i], &st) < 0 || !st->auto_deploy) {
                        gw_stage_free(st);
                        continue;
                }
                if (!*d.id) {
                        d.description = xstrdup("Automatic deployment triggered by changes to "
                                                "the Api configuration");
                        rc = deploy(s, api_id, &d, err);
                }
                if (rc == 0) {
                        free(st->deployment_id);
                        st->deployment_id = xstrdup(d.id);
                        rc = put_stage(s, api_id, st, false, err);
                }
                gw_stage_free(st);
        }
        free(d.description);
        free(d.status);
        free_docs(v, n);
        return rc;
}

/* ---------------------------------------------------------------- APIs */

static bool text_ok(const char *s, size_t max)
{
        if (!s || strlen(s) > max)
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static int check_tags(char *const *tags, gw_error *err)
{
        size_t n = strv_length(tags);
        if (n % 2)
                return gw_seterr(err, GW_E_BAD_REQUEST, "tags come in key, value pairs");
        if (n / 2 > GW_TAGS_MAX)
                return gw_seterr(err, GW_E_BAD_REQUEST, "at most %d tags (GW_TAGS_MAX)",
                                 GW_TAGS_MAX);
        for (size_t i = 0; i < n; i += 2)
                if (!*tags[i] || !text_ok(tags[i], 128) || !text_ok(tags[i + 1], 256))
                        return gw_seterr(err, GW_E_BAD_REQUEST, "a tag's key has 1 to 128 and "
                                         "its value at most 256 printable characters");
        return 0;
}

static int check_api(gw_api *a, gw_error *err)
{
        if (!a->name || !*a->name || !text_ok(a->name, GW_NAME_MAX))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Name: 1 to %d printable characters "
                                 "(GW_NAME_MAX)", GW_NAME_MAX);
        if (!a->protocol)
                a->protocol = xstrdup("HTTP");
        if (strcmp(a->protocol, "HTTP") != 0)
                return gw_seterr(err, GW_E_BAD_REQUEST, "ProtocolType %.32s: husk serves HTTP "
                                 "APIs only (WEBSOCKET is not supported)", a->protocol);
        if (!a->route_selection_expression)
                a->route_selection_expression = xstrdup("$request.method $request.path");
        if (strcmp(a->route_selection_expression, "$request.method $request.path") != 0)
                return gw_seterr(err, GW_E_BAD_REQUEST, "RouteSelectionExpression: an HTTP API's "
                                 "is \"$request.method $request.path\"");
        if (!a->api_key_selection_expression)
                a->api_key_selection_expression = xstrdup("$request.header.x-api-key");
        if (a->description && !text_ok(a->description, 1024))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Description: at most 1024 printable "
                                 "characters");
        if (a->version && !text_ok(a->version, 64))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Version: at most 64 printable characters");
        if (a->cors && a->cors->max_age > 86400)
                return gw_seterr(err, GW_E_BAD_REQUEST, "CorsConfiguration.MaxAge: -1 to 86400");
        return check_tags(a->tags, err);
}

static int put_api(gw_store *s, const gw_api *a, bool insert, gw_error *err)
{
        json_writer *j = json_writer_new(false);
        gw_api_write(j, a);
        _cleanup_free_ char *doc = json_writer_finish(j);
        return exec4(s, insert ? "INSERT INTO apis (api, id, doc) VALUES ('', ?1, ?2)"
                               : "UPDATE apis SET doc = ?2 WHERE api = '' AND id = ?1",
                     a->id, doc, NULL, NULL, err);
}

/* In a transaction: a new API (its id and time filled). */
static int api_insert(gw_store *s, gw_api *a, gw_error *err)
{
        int64_t n = 0;
        int rc = count(s, "apis", "", &n, err);
        if (rc == 0 && n >= GW_APIS_MAX)
                rc = gw_seterr(err, GW_E_LIMIT, "a store holds at most %d APIs (GW_APIS_MAX)",
                               GW_APIS_MAX);
        if (rc == 0) {
                fresh_id(s, "apis", "", a->id, GW_ID_LEN);
                now_rfc3339(a->created);
                rc = put_api(s, a, true, err);
        }
        return rc;
}

int gw_api_create(gw_store *s, gw_api *a, gw_error *err)
{
        if (check_api(a, err) < 0 || begin(s, err) < 0)
                return -1;
        return end(s, api_insert(s, a, err), err);
}

int gw_api_get(gw_store *s, const char *api_id, gw_api **ret, gw_error *err)
{
        json_value *v = NULL;
        pthread_mutex_lock(&s->mu);
        int r = load(s, "apis", "", api_id ? api_id : "", &v, err);
        pthread_mutex_unlock(&s->mu);
        if (r == -ENOENT)
                return gw_seterr(err, GW_E_NOT_FOUND, "Invalid API identifier specified %.64s",
                                 api_id ? api_id : "");
        if (r < 0)
                return -1;
        r = gw_api_read(v, ret);
        json_value_free(v);
        return r < 0 ? gw_seterr(err, GW_E_INTERNAL, "gateway store: API %s: damaged", api_id) : 0;
}

/* The records of one table as typed records (read with rd, freed with fr on failure). */
typedef int (*reader)(const json_value *, void **);
static int list_typed(gw_store *s, const char *table, const char *api, bool need_api, reader rd,
                      void (*fr)(void *), void ***ret, size_t *ret_n, gw_error *err)
{
        json_value **v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&s->mu);
        int r = need_api ? api_missing(s, api, err) : 0;
        if (r == 0)
                r = load_all(s, table, api, &v, &n, err);
        pthread_mutex_unlock(&s->mu);
        if (r < 0)
                return -1;
        void **out = xcalloc(n + 1, sizeof(void *));
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (rd(v[i], &out[k]) == 0)
                        k++;
        (void)fr;
        free_docs(v, n);
        *ret = out;
        *ret_n = k;
        return 0;
}

int gw_api_list(gw_store *s, gw_api ***ret, size_t *ret_n, gw_error *err)
{
        return list_typed(s, "apis", "", false, (reader)gw_api_read, (void (*)(void *))gw_api_free,
                          (void ***)ret, ret_n, err);
}

int gw_api_update(gw_store *s, const gw_api *a, gw_error *err)
{
        return gw_api_update_quick(s, a, NULL, NULL, err);
}

static int quick_type(const char *target, gw_int_type *ret, gw_error *err);
static int quick_update(gw_store *s, const char *api_id, const char *target, gw_int_type type,
                        const char *route_key, gw_error *err);

int gw_api_update_quick(gw_store *s, const gw_api *in, const char *target, const char *route_key,
                        gw_error *err)
{
        gw_api a = *in;
        /* check_api fills defaults: on a copy of the pointers it may add */
        char *proto = NULL, *rse = NULL, *akse = NULL;
        if (!a.protocol)
                a.protocol = proto = xstrdup("HTTP");
        if (!a.route_selection_expression)
                a.route_selection_expression = rse = xstrdup("$request.method $request.path");
        if (!a.api_key_selection_expression)
                a.api_key_selection_expression = akse = xstrdup("$request.header.x-api-key");
        int rc = check_api(&a, err);
        gw_int_type type = GW_INT_AWS_PROXY;
        char why[256];
        if (rc == 0 && target)
                rc = quick_type(target, &type, err);
        if (rc == 0 && route_key && !gw_route_key_valid(route_key, why, sizeof(why)))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "RouteKey %s", why);
        if (rc == 0 && begin(s, err) == 0) {
                rc = api_missing(s, a.id, err);
                json_value *old = NULL;
                if (rc == 0 && load(s, "apis", "", a.id, &old, err) == 0) {
                        /* the creation time stays */
                        snprintf(a.created, sizeof(a.created), "%s",
                                 json_get_str(old, "created") ?: a.created);
                        json_value_free(old);
                }
                if (rc == 0)
                        rc = put_api(s, &a, false, err);
                if (rc == 0 && (target || route_key))
                        rc = quick_update(s, a.id, target, type, route_key, err);
                rc = end(s, rc, err);
        } else {
                rc = -1;
        }
        free(proto);
        free(rse);
        free(akse);
        return rc;
}

int gw_api_delete(gw_store *s, const char *api_id, gw_error *err)
{
        if (begin(s, err) < 0)
                return -1;
        int rc = api_missing(s, api_id, err);
        static const char *const tables[] = { "routes", "integrations", "stages", "deployments" };
        for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(tables); i++) {
                char sql[96];
                snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE api = ?1", tables[i]);
                rc = exec4(s, sql, api_id, NULL, NULL, NULL, err);
        }
        if (rc == 0)
                rc = exec4(s, "DELETE FROM apis WHERE api = '' AND id = ?1", api_id, NULL, NULL,
                           NULL, err);
        return end(s, rc, err);
}

/* ---------------------------------------------------------------- routes */

static int check_route(gw_store *s, const char *api_id, gw_route *r, gw_error *err)
{
        char why[256];
        if (!gw_route_key_valid(r->route_key, why, sizeof(why)))
                return gw_seterr(err, GW_E_BAD_REQUEST, "RouteKey %s", why);
        if (!r->authorization_type)
                r->authorization_type = xstrdup("NONE");
        if (strcmp(r->authorization_type, "NONE") != 0)
                return gw_seterr(err, GW_E_BAD_REQUEST, "AuthorizationType %.32s is not "
                                 "supported: husk's routes have no authorizers (NONE only)",
                                 r->authorization_type);
        if (r->operation_name && !text_ok(r->operation_name, 64))
                return gw_seterr(err, GW_E_BAD_REQUEST, "OperationName: at most 64 printable "
                                 "characters");
        if (r->target) {
                if (strncmp(r->target, "integrations/", 13) != 0)
                        return gw_seterr(err, GW_E_BAD_REQUEST, "Target %.64s: "
                                         "integrations/INTEGRATION_ID", r->target);
                if (s && !exists(s, "integrations", api_id, r->target + 13))
                        return gw_seterr(err, GW_E_BAD_REQUEST, "Target %.64s: no such "
                                         "integration in API %s", r->target, api_id);
        }
        return 0;
}

/* The route key taken by another route: ConflictException naming it. */
static int put_route(gw_store *s, const char *api_id, const gw_route *r, bool insert,
                     gw_error *err)
{
        json_writer *j = json_writer_new(false);
        gw_route_write(j, r);
        _cleanup_free_ char *doc = json_writer_finish(j);
        _cleanup_free_ char *norm = gw_route_key_norm(r->route_key);
        int rc = exec4(s, insert ? "INSERT INTO routes (api, id, doc, norm) VALUES (?1, ?2, ?3, ?4)"
                                 : "UPDATE routes SET doc = ?3, norm = ?4 WHERE api = ?1 AND id = ?2",
                       api_id, r->id, doc, norm, err);
        if (rc < 0 && err && err->code == GW_E_CONFLICT)
                gw_seterr(err, GW_E_CONFLICT, "Unable to create route %.*s: the API already has "
                          "a route with this key (or one matching the same requests)",
                          GW_ROUTE_KEY_MAX, r->route_key);
        return rc;
}

/* In a transaction: a new route of the API (its id filled), managed (quick create's) or not. */
static int route_insert(gw_store *s, const char *api_id, gw_route *r, bool managed,
                        gw_error *err)
{
        int rc = check_route(s, api_id, r, err);
        int64_t n = 0;
        if (rc == 0 && (rc = count(s, "routes", api_id, &n, err)) == 0 && n >= GW_ROUTES_MAX)
                rc = gw_seterr(err, GW_E_LIMIT, "an API has at most %d routes (GW_ROUTES_MAX)",
                               GW_ROUTES_MAX);
        if (rc == 0) {
                fresh_id(s, "routes", api_id, r->id, GW_SUBID_LEN);
                rc = put_route(s, api_id, r, true, err);
        }
        if (rc == 0 && managed)
                rc = mark_managed(s, "routes", api_id, r->id, err);
        if (rc == 0)
                r->managed = managed;
        return rc;
}

int gw_route_create(gw_store *s, const char *api_id, gw_route *r, gw_error *err)
{
        if (begin(s, err) < 0)
                return -1;
        int rc = api_missing(s, api_id, err);
        if (rc == 0)
                rc = route_insert(s, api_id, r, false, err);
        if (rc == 0)
                rc = auto_deploy(s, api_id, err);
        return end(s, rc, err);
}

/* get: a record of (table, api, id) read with rd; NOT_FOUND names what. */
static int get_typed(gw_store *s, const char *table, const char *api_id, const char *id,
                     const char *what, reader rd, void **ret, gw_error *err)
{
        json_value *v = NULL;
        pthread_mutex_lock(&s->mu);
        int r = api_missing(s, api_id, err);
        if (r == 0) {
                r = load(s, table, api_id, id ? id : "", &v, err);
                if (r == -ENOENT)
                        r = gw_seterr(err, GW_E_NOT_FOUND, "Invalid %s identifier specified %.64s",
                                      what, id ? id : "");
        }
        pthread_mutex_unlock(&s->mu);
        if (r < 0)
                return -1;
        r = rd(v, ret);
        json_value_free(v);
        return r < 0 ? gw_seterr(err, GW_E_INTERNAL, "gateway store: %s %s: damaged", what, id)
                     : 0;
}

int gw_route_get(gw_store *s, const char *api_id, const char *route_id, gw_route **ret,
                 gw_error *err)
{
        return get_typed(s, "routes", api_id, route_id, "Route", (reader)gw_route_read,
                         (void **)ret, err);
}

int gw_route_list(gw_store *s, const char *api_id, gw_route ***ret, size_t *ret_n, gw_error *err)
{
        return list_typed(s, "routes", api_id, true, (reader)gw_route_read,
                          (void (*)(void *))gw_route_free, (void ***)ret, ret_n, err);
}

/* Update/delete of a sub-record: the API and the record must exist. */
static int sub_missing(gw_store *s, const char *table, const char *api_id, const char *id,
                       const char *what, gw_error *err)
{
        if (api_missing(s, api_id, err) < 0)
                return -1;
        if (id && exists(s, table, api_id, id))
                return 0;
        return gw_seterr(err, GW_E_NOT_FOUND, "Invalid %s identifier specified %.64s", what,
                         id ? id : "");
}

/* A managed route keeps its route key (AWS: "You can't modify the $default route key"); its
 * target and other members may change. UpdateApi's RouteKey changes the key. */
static int managed_key_kept(gw_store *s, const char *api_id, const gw_route *r, gw_error *err)
{
        if (!is_managed(s, "routes", api_id, r->id))
                return 0;
        json_value *old = NULL;
        int rc = load(s, "routes", api_id, r->id, &old, err);
        if (rc == -ENOENT)
                rc = gw_seterr(err, GW_E_NOT_FOUND, "Invalid Route identifier specified %s", r->id);
        const char *key = json_get_str(old, "key");
        if (rc == 0 && (!key || strcmp(key, r->route_key) != 0))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "the route %.200s (%s) was made by quick "
                               "create (ApiGatewayManaged): its route key cannot be changed; "
                               "update the API's RouteKey instead", key ? key : "", r->id);
        json_value_free(old);
        return rc;
}

int gw_route_update(gw_store *s, const char *api_id, const gw_route *in, gw_error *err)
{
        gw_route r = *in;
        char *auth = NULL;
        if (!r.authorization_type)
                r.authorization_type = auth = xstrdup("NONE");
        if (begin(s, err) < 0) {
                free(auth);
                return -1;
        }
        int rc = sub_missing(s, "routes", api_id, r.id, "Route", err);
        if (rc == 0)
                rc = check_route(s, api_id, &r, err);
        if (rc == 0)
                rc = managed_key_kept(s, api_id, &r, err);
        if (rc == 0)
                rc = put_route(s, api_id, &r, false, err);
        if (rc == 0)
                rc = auto_deploy(s, api_id, err);
        rc = end(s, rc, err);
        free(auth);
        return rc;
}

int gw_route_delete(gw_store *s, const char *api_id, const char *route_id, gw_error *err)
{
        if (begin(s, err) < 0)
                return -1;
        int rc = sub_missing(s, "routes", api_id, route_id, "Route", err);
        if (rc == 0 && is_managed(s, "routes", api_id, route_id)) {
                json_value *v = NULL;
                (void)load(s, "routes", api_id, route_id, &v, err); /* only for its key */
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "the route %.200s (%s) was made by quick "
                               "create (ApiGatewayManaged) and cannot be deleted; it goes with "
                               "the API (DeleteApi)", json_get_str(v, "key") ?: "", route_id);
                json_value_free(v);
        }
        if (rc == 0)
                rc = exec4(s, "DELETE FROM routes WHERE api = ?1 AND id = ?2", api_id, route_id,
                           NULL, NULL, err);
        if (rc == 0)
                rc = auto_deploy(s, api_id, err);
        return end(s, rc, err);
}

/* ---------------------------------------------------------------- integrations */

static const char *const methods_ok[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                          "OPTIONS", "ANY" };

static int check_integration(gw_integration *i, gw_error *err)
{
        if (i->type != GW_INT_AWS_PROXY && i->type != GW_INT_HTTP_PROXY)
                return gw_seterr(err, GW_E_BAD_REQUEST, "IntegrationType: AWS_PROXY or HTTP_PROXY "
                                 "(husk's integrations)");
        if (!i->uri || !*i->uri || !text_ok(i->uri, 2048) || strchr(i->uri, ' '))
                return gw_seterr(err, GW_E_BAD_REQUEST, "IntegrationUri is required (at most "
                                 "2048 printable characters without spaces)");
        if (i->type == GW_INT_AWS_PROXY) {
                if (!i->payload_format_version)
                        return gw_seterr(err, GW_E_BAD_REQUEST, "PayloadFormatVersion is required "
                                         "for AWS_PROXY integrations: 1.0 or 2.0");
                if (strcmp(i->payload_format_version, "1.0") != 0 &&
                    strcmp(i->payload_format_version, "2.0") != 0)
                        return gw_seterr(err, GW_E_BAD_REQUEST, "PayloadFormatVersion %.16s: 1.0 "
                                         "or 2.0", i->payload_format_version);
                char fn[512];
                if (gw_lambda_function(i->uri, fn, sizeof(fn)) < 0)
                        return gw_seterr(err, GW_E_BAD_REQUEST, "IntegrationUri %.200s: an "
                                         "AWS_PROXY integration's URI is a function name, its "
                                         "Lambda ARN or arn:aws:apigateway:REGION:lambda:path/"
                                         "2015-03-31/functions/ARN/invocations", i->uri);
                if (!i->method)
                        i->method = xstrdup("POST");
        } else {
                if (strncmp(i->uri, "http://", 7) != 0 || !i->uri[7] || i->uri[7] == '/')
                        return gw_seterr(err, GW_E_BAD_REQUEST, "IntegrationUri %.200s: an "
                                         "HTTP_PROXY integration's URI is http://HOST[:PORT][/PATH] "
                                         "(a husk service, an IP address or localhost; no https)",
                                         i->uri);
                if (!i->payload_format_version)
                        i->payload_format_version = xstrdup("1.0");
                if (strcmp(i->payload_format_version, "1.0") != 0)
                        return gw_seterr(err, GW_E_BAD_REQUEST, "PayloadFormatVersion %.16s: "
                                         "HTTP_PROXY integrations use 1.0",
                                         i->payload_format_version);
                if (!i->method)
                        i->method = xstrdup("ANY");
        }
        bool mok = false;
        for (size_t k = 0; k < ARRAY_SIZE(methods_ok) && !mok; k++)
                mok = strcmp(i->method, methods_ok[k]) == 0;
        if (!mok)
                return gw_seterr(err, GW_E_BAD_REQUEST, "IntegrationMethod %.16s: one of GET POST "
                                 "PUT PATCH DELETE HEAD OPTIONS ANY", i->method);
        if (i->timeout_ms == 0)
                i->timeout_ms = GW_TIMEOUT_DEFAULT_MS;
        if (i->timeout_ms < GW_TIMEOUT_MIN_MS || i->timeout_ms > GW_TIMEOUT_MAX_MS)
                return gw_seterr(err, GW_E_BAD_REQUEST, "TimeoutInMillis %u: %d to %d",
                                 i->timeout_ms, GW_TIMEOUT_MIN_MS, GW_TIMEOUT_MAX_MS);
        if (!i->connection_type)
                i->connection_type = xstrdup("INTERNET");
        if (strcmp(i->connection_type, "INTERNET") != 0)
                return gw_seterr(err, GW_E_BAD_REQUEST, "ConnectionType %.32s is not supported "
                                 "(INTERNET only: husk has no VPC links)", i->connection_type);
        if (i->description && !text_ok(i->description, 1024))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Description: at most 1024 printable "
                                 "characters");
        return 0;
}

static int put_integration(gw_store *s, const char *api_id, const gw_integration *i, bool insert,
                           gw_error *err)
{
        json_writer *j = json_writer_new(false);
        gw_integration_write(j, i);
        _cleanup_free_ char *doc = json_writer_finish(j);
        return exec4(s, insert ? "INSERT INTO integrations (api, id, doc) VALUES (?1, ?2, ?3)"
                               : "UPDATE integrations SET doc = ?3 WHERE api = ?1 AND id = ?2",
                     api_id, i->id, doc, NULL, err);
}

/* In a transaction: a new integration (checked) of the API, its id filled. */
static int integration_insert(gw_store *s, const char *api_id, gw_integration *i, bool managed,
                              gw_error *err)
{
        int64_t n = 0;
        int rc = count(s, "integrations", api_id, &n, err);
        if (rc == 0 && n >= GW_INTEGRATIONS_MAX)
                rc = gw_seterr(err, GW_E_LIMIT, "an API has at most %d integrations "
                               "(GW_INTEGRATIONS_MAX)", GW_INTEGRATIONS_MAX);
        if (rc == 0) {
                fresh_id(s, "integrations", api_id, i->id, GW_SUBID_LEN);
                rc = put_integration(s, api_id, i, true, err);
        }
        if (rc == 0 && managed)
                rc = mark_managed(s, "integrations", api_id, i->id, err);
        if (rc == 0)
                i->managed = managed;
        return rc;
}

int gw_integration_create(gw_store *s, const char *api_id, gw_integration *i, gw_error *err)
{
        if (check_integration(i, err) < 0 || begin(s, err) < 0)
                return -1;
        int rc = api_missing(s, api_id, err);
        if (rc == 0)
                rc = integration_insert(s, api_id, i, false, err);
        if (rc == 0)
                rc = auto_deploy(s, api_id, err);
        return end(s, rc, err);
}

int gw_integration_get(gw_store *s, const char *api_id, const char *int_id,
                       gw_integration **ret, gw_error *err)
{
        return get_typed(s, "integrations", api_id, int_id, "Integration",
                         (reader)gw_integration_read, (void **)ret, err);
}

int gw_integration_list(gw_store *s, const char *api_id, gw_integration ***ret, size_t *ret_n,
                        gw_error *err)
{
        return list_typed(s, "integrations", api_id, true, (reader)gw_integration_read,
                          (void (*)(void *))gw_integration_free, (void ***)ret, ret_n, err);
}

int gw_integration_update(gw_store *s, const char *api_id, const gw_integration *in,
                          gw_error *err)
{
        gw_integration i = *in;
        /* defaults filled on the copy: the caller's record stays its own */
        i.method = in->method ? xstrdup(in->method) : NULL;
        i.payload_format_version =
                in->payload_format_version ? xstrdup(in->payload_format_version) : NULL;
        i.connection_type = in->connection_type ? xstrdup(in->connection_type) : NULL;
        int rc = check_integration(&i, err);
        if (rc == 0 && begin(s, err) == 0) {
                rc = sub_missing(s, "integrations", api_id, i.id, "Integration", err);
                if (rc == 0)
                        rc = put_integration(s, api_id, &i, false, err);
                if (rc == 0)
                        rc = auto_deploy(s, api_id, err);
                rc = end(s, rc, err);
        } else {
                rc = -1;
        }
        free(i.method);
        free(i.payload_format_version);
        free(i.connection_type);
        return rc;
}

int gw_integration_delete(gw_store *s, const char *api_id, const char *int_id, gw_error *err)
{
        if (begin(s, err) < 0)
                return -1;
        int rc = sub_missing(s, "integrations", api_id, int_id, "Integration", err);
        /* AWS: "You can update a managed integration, but you can't delete it." */
        if (rc == 0 && is_managed(s, "integrations", api_id, int_id))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "the integration %s was made by quick "
                               "create (ApiGatewayManaged) and cannot be deleted (it can be "
                               "updated, and the API's Target changes its URI); it goes with the "
                               "API (DeleteApi)", int_id);
        json_value **v = NULL;
        size_t n = 0;
        if (rc == 0 && (rc = load_all(s, "routes", api_id, &v, &n, err)) == 0) {
                _cleanup_free_ char *target = xasprintf("integrations/%s", int_id);
                for (size_t i = 0; i < n && rc == 0; i++) {
                        const char *t = json_get_str(v[i], "target");
                        if (t && strcmp(t, target) == 0)
                                rc = gw_seterr(err, GW_E_CONFLICT, "Integration %s is the target "
                                               "of route %s (%.200s): change or delete the "
                                               "route first", int_id, json_get_str(v[i], "id"),
                                               json_get_str(v[i], "key"));
                }
                free_docs(v, n);
        }
        if (rc == 0)
                rc = exec4(s, "DELETE FROM integrations WHERE api = ?1 AND id = ?2", api_id,
                           int_id, NULL, NULL, err);
        if (rc == 0)
                rc = auto_deploy(s, api_id, err);
        return end(s, rc, err);
}

/* ---------------------------------------------------------------- stages */

static int check_throttle(const gw_throttle *t, const char *what, gw_error *err)
{
        if (t->rate > 1e6 || (t->rate < 0 && t->rate != -1))
                return gw_seterr(err, GW_E_BAD_REQUEST, "%s.ThrottlingRateLimit: 0 to 1000000",
                                 what);
        if (t->burst > 1000000 || (t->burst < 0 && t->burst != -1))
                return gw_seterr(err, GW_E_BAD_REQUEST, "%s.ThrottlingBurstLimit: 0 to 1000000",
                                 what);
        return 0;
}

static int check_stage(gw_stage *st, gw_error *err)
{
        if (!gw_stage_name_valid(st->name))
                return gw_seterr(err, GW_E_BAD_REQUEST, "StageName %.140s: $default or 1 to %d "
                                 "of A-Z a-z 0-9 _ - (GW_NAME_MAX)", st->name ? st->name : "",
                                 GW_NAME_MAX);
        if (st->description && !text_ok(st->description, 1024))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Description: at most 1024 printable "
                                 "characters");
        if (check_throttle(&st->default_throttle, "DefaultRouteSettings", err) < 0)
                return -1;
        if (st->n_route_settings > GW_ROUTES_MAX)
                return gw_seterr(err, GW_E_BAD_REQUEST, "RouteSettings: at most %d (GW_ROUTES_MAX)",
                                 GW_ROUTES_MAX);
        for (size_t i = 0; i < st->n_route_settings; i++) {
                char why[256];
                if (!gw_route_key_valid(st->route_settings[i].route_key, why, sizeof(why)))
                        return gw_seterr(err, GW_E_BAD_REQUEST, "RouteSettings: %s", why);
                if (check_throttle(&st->route_settings[i].throttle, "RouteSettings", err) < 0)
                        return -1;
        }
        if (st->access_log_destination &&
            (!*st->access_log_destination || !text_ok(st->access_log_destination, 1024)))
                return gw_seterr(err, GW_E_BAD_REQUEST, "AccessLogSettings.DestinationArn: a "
                                 "file path or a log group ARN of at most 1024 characters");
        if (st->access_log_format && !text_ok(st->access_log_format, 4096))
                return gw_seterr(err, GW_E_BAD_REQUEST, "AccessLogSettings.Format: at most 4096 "
                                 "printable characters");
        if (!!st->access_log_destination != !!st->access_log_format)
                return gw_seterr(err, GW_E_BAD_REQUEST, "AccessLogSettings: both DestinationArn "
                                 "and Format are required");
        size_t nv = strv_length(st->variables);
        if (nv % 2 || nv / 2 > 100)
                return gw_seterr(err, GW_E_BAD_REQUEST, "StageVariables: at most 100");
        for (size_t i = 0; i < nv; i += 2)
                if (!*st->variables[i] || !text_ok(st->variables[i], 64) ||
                    !text_ok(st->variables[i + 1], 512))
                        return gw_seterr(err, GW_E_BAD_REQUEST, "StageVariables: names of 1 to "
                                         "64 and values of at most 512 printable characters");
        return check_tags(st->tags, err);
}

static int put_stage(gw_store *s, const char *api_id, const gw_stage *st, bool insert,
                     gw_error *err)
{
        json_writer *j = json_writer_new(false);
        gw_stage_write(j, st);
        _cleanup_free_ char *doc = json_writer_finish(j);
        int rc = exec4(s, insert ? "INSERT INTO stages (api, id, doc) VALUES (?1, ?2, ?3)"
                                 : "UPDATE stages SET doc = ?3 WHERE api = ?1 AND id = ?2",
                       api_id, st->name, doc, NULL, err);
        if (rc < 0 && err && err->code == GW_E_CONFLICT)
                gw_seterr(err, GW_E_CONFLICT, "Stage %s already exists", st->name);
        return rc;
}

/* The stage's deployment (when named) must be one of the API's. */
static int check_deployment_ref(gw_store *s, const char *api_id, const gw_stage *st,
                                gw_error *err)
{
        if (st->deployment_id && !exists(s, "deployments", api_id, st->deployment_id))
                return gw_seterr(err, GW_E_BAD_REQUEST, "DeploymentId %.64s: no such deployment "
                                 "of API %s", st->deployment_id, api_id);
        return 0;
}

/* In a transaction: a new stage (checked) of the API, its times filled. */
static int stage_insert(gw_store *s, const char *api_id, gw_stage *st, bool managed,
                        gw_error *err)
{
        int rc = 0;
        int64_t n = 0;
        if (exists(s, "stages", api_id, st->name))
                rc = gw_seterr(err, GW_E_CONFLICT, "Stage %s already exists", st->name);
        if (rc == 0 && (rc = count(s, "stages", api_id, &n, err)) == 0 && n >= GW_STAGES_MAX)
                rc = gw_seterr(err, GW_E_LIMIT, "an API has at most %d stages (GW_STAGES_MAX)",
                               GW_STAGES_MAX);
        if (rc == 0)
                rc = check_deployment_ref(s, api_id, st, err);
        if (rc == 0) {
                now_rfc3339(st->created);
                memcpy(st->updated, st->created, sizeof(st->updated));
                rc = put_stage(s, api_id, st, true, err);
        }
        if (rc == 0 && managed)
                rc = mark_managed(s, "stages", api_id, st->name, err);
        if (rc == 0)
                st->managed = managed;
        return rc;
}

int gw_stage_create(gw_store *s, const char *api_id, gw_stage *st, gw_error *err)
{
        if (check_stage(st, err) < 0 || begin(s, err) < 0)
                return -1;
        int rc = api_missing(s, api_id, err);
        if (rc == 0)
                rc = stage_insert(s, api_id, st, false, err);
        if (rc == 0 && st->auto_deploy)
                rc = auto_deploy(s, api_id, err);
        return end(s, rc, err);
}

int gw_stage_get(gw_store *s, const char *api_id, const char *name, gw_stage **ret,
                 gw_error *err)
{
        return get_typed(s, "stages", api_id, name, "Stage", (reader)gw_stage_read, (void **)ret,
                         err);
}

int gw_stage_list(gw_store *s, const char *api_id, gw_stage ***ret, size_t *ret_n, gw_error *err)
{
        return list_typed(s, "stages", api_id, true, (reader)gw_stage_read,
                          (void (*)(void *))gw_stage_free, (void ***)ret, ret_n, err);
}

int gw_stage_update(gw_store *s, const char *api_id, const gw_stage *in, gw_error *err)
{
        gw_stage st = *in;
        if (check_stage(&st, err) < 0 || begin(s, err) < 0)
                return -1;
        int rc = sub_missing(s, "stages", api_id, st.name, "Stage", err);
        json_value *old = NULL;
        bool was_auto = false;
        /* AWS: "You can't modify the $default stage" of quick create. husk lets its settings
         * change (throttling, access logs, description, variables, tags: people tune the stage
         * quick create made) but not AutoDeploy, which makes UpdateApi's Target and RouteKey
         * take effect. */
        if (rc == 0 && !st.auto_deploy && is_managed(s, "stages", api_id, st.name))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "the stage %.140s was made by quick create "
                               "(ApiGatewayManaged): it keeps AutoDeploy (its throttling, access "
                               "logs, description and variables may change)", st.name);
        if (rc == 0)
                rc = check_deployment_ref(s, api_id, &st, err);
        if (rc == 0 && load(s, "stages", api_id, st.name, &old, err) == 0) {
                snprintf(st.created, sizeof(st.created), "%s",
                         json_get_str(old, "created") ?: st.created);
                const json_value *a = json_get(old, "auto_deploy");
                was_auto = a && a->type == JSON_BOOL && a->boolean;
                json_value_free(old);
        }
        if (rc == 0) {
                now_rfc3339(st.updated);
                rc = put_stage(s, api_id, &st, false, err);
        }
        /* turning AutoDeploy on deploys at once */
        if (rc == 0 && st.auto_deploy && !was_auto)
                rc = auto_deploy(s, api_id, err);
        return end(s, rc, err);
}

int gw_stage_delete(gw_store *s, const char *api_id, const char *name, gw_error *err)
{
        if (begin(s, err) < 0)
                return -1;
        int rc = sub_missing(s, "stages", api_id, name, "Stage", err);
        if (rc == 0 && is_managed(s, "stages", api_id, name))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "the stage %.140s was made by quick create "
                               "(ApiGatewayManaged) and cannot be deleted; it goes with the API "
                               "(DeleteApi)", name);
        if (rc == 0)
                rc = exec4(s, "DELETE FROM stages WHERE api = ?1 AND id = ?2", api_id, name, NULL,
                           NULL, err);
        return end(s, rc, err);
}

/* ---------------------------------------------------------------- quick create */

/* The integration type quick create gives a target: an http(s) URL HTTP_PROXY, a function (its
 * name or Lambda ARN) AWS_PROXY. */
static int quick_type(const char *target, gw_int_type *ret, gw_error *err)
{
        char fn[512];
        if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0)
                *ret = GW_INT_HTTP_PROXY;
        else if (gw_lambda_function(target, fn, sizeof(fn)) == 0)
                *ret = GW_INT_AWS_PROXY;
        else
                return gw_seterr(err, GW_E_BAD_REQUEST, "Target %.200s: a function (its name or "
                                 "Lambda ARN) or an http:// URL", target);
        return 0;
}

/* The managed integration made (i zeroed) or changed for target: a new type gets quick create's
 * payload format and method; timeout and description stay. */
static void quick_integration(gw_integration *i, const char *target, gw_int_type type)
{
        if (i->type != type) {
                i->type = type;
                free(i->payload_format_version);
                i->payload_format_version = xstrdup(type == GW_INT_AWS_PROXY ? "2.0" : "1.0");
                free(i->method);
                i->method = NULL; /* check_integration: POST (AWS_PROXY), ANY (HTTP_PROXY) */
        }
        free(i->uri);
        i->uri = xstrdup(target);
}

int gw_api_create_quick(gw_store *s, gw_api *a, const char *target, const char *route_key,
                        gw_error *err)
{
        if (!target && route_key)
                return gw_seterr(err, GW_E_BAD_REQUEST, "RouteKey is for quick create: give "
                                 "Target too");
        if (!target)
                return gw_api_create(s, a, err);
        gw_int_type type;
        if (check_api(a, err) < 0 || quick_type(target, &type, err) < 0)
                return -1;
        gw_integration in = { 0 };
        quick_integration(&in, target, type);
        gw_route r = { .route_key = xstrdup(route_key ? route_key : GW_DEFAULT_ROUTE) };
        gw_stage st = { .name = xstrdup(GW_DEFAULT_STAGE), .auto_deploy = true,
                        .default_throttle = { -1, -1 } };
        char why[256];
        int rc = 0;
        if (!gw_route_key_valid(r.route_key, why, sizeof(why)))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "RouteKey %s", why);
        if (rc == 0 && check_integration(&in, err) < 0)
                rc = -1;
        if (rc == 0 && begin(s, err) == 0) {
                rc = api_insert(s, a, err);
                if (rc == 0)
                        rc = integration_insert(s, a->id, &in, true, err);
                if (rc == 0) {
                        r.target = xasprintf("integrations/%s", in.id);
                        rc = route_insert(s, a->id, &r, true, err);
                }
                if (rc == 0)
                        rc = stage_insert(s, a->id, &st, true, err);
                if (rc == 0)
                        rc = auto_deploy(s, a->id, err);
                rc = end(s, rc, err);
        } else if (rc == 0) {
                rc = -1;
        }
        free(in.uri);
        free(in.payload_format_version);
        free(in.method);
        free(in.connection_type);
        free(r.route_key);
        free(r.target);
        free(r.authorization_type);
        free(st.name);
        return rc;
}

/* In a transaction: the record (table, api, id) read with rd. */
static int load_typed(gw_store *s, const char *table, const char *api_id, const char *id,
                      reader rd, void **ret, gw_error *err)
{
        json_value *v = NULL;
        int rc = load(s, table, api_id, id, &v, err);
        if (rc == 0 && rd(v, ret) < 0)
                rc = gw_seterr(err, GW_E_INTERNAL, "gateway store: %s %s: damaged", table, id);
        else if (rc == -ENOENT)
                rc = gw_seterr(err, GW_E_INTERNAL, "gateway store: %s %s: missing", table, id);
        json_value_free(v);
        return rc;
}

/* UpdateApi's Target (type: what quick_type gave) and RouteKey, in its transaction: onto the
 * managed integration and route. */
static int quick_update(gw_store *s, const char *api_id, const char *target, gw_int_type type,
                        const char *route_key, gw_error *err)
{
        char rid[GW_SUBID_LEN + 1] = "", iid[GW_SUBID_LEN + 1] = "";
        bool have_route = managed_id(s, "routes", api_id, rid, sizeof(rid)) == 0;
        bool have_int = managed_id(s, "integrations", api_id, iid, sizeof(iid)) == 0;
        if ((route_key && !have_route) || (target && !have_int))
                return gw_seterr(err, GW_E_BAD_REQUEST, "API %s was not made by quick create "
                                 "(CreateApi with Target: it has no ApiGatewayManaged route and "
                                 "integration): %s changes what quick create made; change its "
                                 "routes and integrations with UpdateRoute and UpdateIntegration",
                                 api_id,
                                 target && route_key ? "Target and RouteKey"
                                 : target            ? "Target"
                                                     : "RouteKey");
        int rc = 0;
        if (route_key) {
                gw_route *r = NULL;
                rc = load_typed(s, "routes", api_id, rid, (reader)gw_route_read, (void **)&r, err);
                if (rc == 0) {
                        free(r->route_key);
                        r->route_key = xstrdup(route_key);
                        rc = check_route(s, api_id, r, err);
                }
                if (rc == 0)
                        rc = put_route(s, api_id, r, false, err);
                gw_route_free(r);
        }
        if (rc == 0 && target) {
                gw_integration *i = NULL;
                rc = load_typed(s, "integrations", api_id, iid, (reader)gw_integration_read,
                                (void **)&i, err);
                if (rc == 0) {
                        quick_integration(i, target, type);
                        rc = check_integration(i, err);
                }
                if (rc == 0)
                        rc = put_integration(s, api_id, i, false, err);
                gw_integration_free(i);
        }
        /* the $default stage (AutoDeploy, kept by gw_stage_update) serves the change at once */
        if (rc == 0)
                rc = auto_deploy(s, api_id, err);
        return rc;
}

/* ---------------------------------------------------------------- deployments */

int gw_deployment_create(gw_store *s, const char *api_id, const char *stage, gw_deployment *d,
                         gw_error *err)
{
        if (d->description && !text_ok(d->description, 1024))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Description: at most 1024 printable "
                                 "characters");
        if (begin(s, err) < 0)
                return -1;
        int rc = api_missing(s, api_id, err);
        gw_stage *st = NULL;
        if (rc == 0 && stage) {
                json_value *v = NULL;
                int r = load(s, "stages", api_id, stage, &v, err);
                if (r == -ENOENT)
                        rc = gw_seterr(err, GW_E_NOT_FOUND, "Invalid stage identifier specified "
                                       "%.140s", stage);
                else if (r < 0 || gw_stage_read(v, &st) < 0)
                        rc = gw_seterr(err, GW_E_INTERNAL, "gateway store: stage %s: damaged",
                                       stage);
                json_value_free(v);
                if (rc == 0 && st->auto_deploy)
                        rc = gw_seterr(err, GW_E_BAD_REQUEST, "Stage %s has AutoDeploy: it is "
                                       "deployed at every change (no CreateDeployment for it)",
                                       stage);
        }
        d->auto_deployed = false;
        if (rc == 0)
                rc = deploy(s, api_id, d, err);
        if (rc == 0 && st) {
                free(st->deployment_id);
                st->deployment_id = xstrdup(d->id);
                now_rfc3339(st->updated);
                rc = put_stage(s, api_id, st, false, err);
        }
        gw_stage_free(st);
        return end(s, rc, err);
}

int gw_deployment_get(gw_store *s, const char *api_id, const char *dep_id,
                      gw_deployment **ret, gw_error *err)
{
        return get_typed(s, "deployments", api_id, dep_id, "Deployment",
                         (reader)gw_deployment_read, (void **)ret, err);
}

int gw_deployment_list(gw_store *s, const char *api_id, gw_deployment ***ret, size_t *ret_n,
                       gw_error *err)
{
        return list_typed(s, "deployments", api_id, true, (reader)gw_deployment_read,
                          (void (*)(void *))gw_deployment_free, (void ***)ret, ret_n, err);
}

int gw_deployment_update(gw_store *s, const char *api_id, const char *dep_id,
                         const char *description, gw_deployment **ret, gw_error *err)
{
        if (description && !text_ok(description, 1024))
                return gw_seterr(err, GW_E_BAD_REQUEST, "Description: at most 1024 printable "
                                 "characters");
        if (begin(s, err) < 0)
                return -1;
        int rc = api_missing(s, api_id, err);
        json_value *v = NULL;
        gw_deployment *d = NULL;
        if (rc == 0) {
                int r = load(s, "deployments", api_id, dep_id, &v, err);
                if (r == -ENOENT)
                        rc = gw_seterr(err, GW_E_NOT_FOUND, "Invalid Deployment identifier "
                                       "specified %.64s", dep_id);
                else if (r < 0 || gw_deployment_read(v, &d) < 0)
                        rc = gw_seterr(err, GW_E_INTERNAL, "gateway store: deployment %s: "
                                       "damaged", dep_id);
        }
        if (rc == 0 && description) {
                free(d->description);
                d->description = xstrdup(description);
                json_writer *j = json_writer_new(false);
                gw_deployment_write(j, d);
                _cleanup_free_ char *doc = json_writer_finish(j);
                rc = exec4(s, "UPDATE deployments SET doc = ?3 WHERE api = ?1 AND id = ?2",
                           api_id, dep_id, doc, NULL, err);
        }
        json_value_free(v);
        rc = end(s, rc, err);
        if (rc == 0)
                *ret = d;
        else
                gw_deployment_free(d);
        return rc;
}

int gw_deployment_delete(gw_store *s, const char *api_id, const char *dep_id, gw_error *err)
{
        if (begin(s, err) < 0)
                return -1;
        int rc = sub_missing(s, "deployments", api_id, dep_id, "Deployment", err);
        if (rc == 0 && deployment_in_use(s, api_id, dep_id))
                rc = gw_seterr(err, GW_E_BAD_REQUEST, "Active stages pointing to deployment %s "
                               "must be moved or deleted", dep_id);
        if (rc == 0)
                rc = exec4(s, "DELETE FROM deployments WHERE api = ?1 AND id = ?2", api_id,
                           dep_id, NULL, NULL, err);
        return end(s, rc, err);
}

/* ---------------------------------------------------------------- what match.c reads */

/* For gw_snapshot_build (called with snap_mu held): everything, under the store's lock. The
 * callbacks get each API with its stages and, per stage, its deployment's frozen document. */
int gw_store_scan(gw_store *s, void (*api_cb)(void *, const json_value *),
                  void (*stage_cb)(void *, const json_value *stage, const json_value *frozen),
                  void *ud, gw_error *err);
int gw_store_scan(gw_store *s, void (*api_cb)(void *, const json_value *),
                  void (*stage_cb)(void *, const json_value *stage, const json_value *frozen),
                  void *ud, gw_error *err)
{
        pthread_mutex_lock(&s->mu);
        json_value **apis = NULL;
        size_t na = 0;
        int rc = load_all(s, "apis", "", &apis, &na, err);
        for (size_t i = 0; rc == 0 && i < na; i++) {
                const char *id = json_get_str(apis[i], "id");
                if (!id)
                        continue;
                api_cb(ud, apis[i]);
                json_value **st = NULL;
                size_t ns = 0;
                if ((rc = load_all(s, "stages", id, &st, &ns, err)) < 0)
                        break;
                for (size_t k = 0; k < ns; k++) {
                        const char *dep = json_get_str(st[k], "deployment");
                        json_value *frozen = NULL;
                        if (dep) {
                                sqlite3_stmt *q = prep(s, "SELECT frozen FROM deployments WHERE "
                                                          "api = ?1 AND id = ?2", err);
                                if (q) {
                                        bind_texts(q, id, dep, NULL, NULL);
                                        if (sqlite3_step(q) == SQLITE_ROW) {
                                                const char *f = (const char *)sqlite3_column_text(q, 0);
                                                char why[128];
                                                if (f && json_parse(f, strlen(f), &frozen, why,
                                                                    sizeof(why)) < 0)
                                                        frozen = NULL;
                                        }
                                        sqlite3_finalize(q);
                                }
                        }
                        stage_cb(ud, st[k], frozen);
                        json_value_free(frozen);
                }
                free_docs(st, ns);
        }
        free_docs(apis, na);
        pthread_mutex_unlock(&s->mu);
        return rc;
}

gw_snapshot *gw_store_snapshot(gw_store *s, gw_error *err)
{
        uint64_t gen = atomic_load(&s->gen);
        pthread_mutex_lock(&s->snap_mu);
        if (!s->snap || gw_snapshot_gen(s->snap) != gen) {
                gw_snapshot *n = gw_snapshot_build(s, gen, err);
                if (!n) {
                        pthread_mutex_unlock(&s->snap_mu);
                        return NULL;
                }
                gw_snapshot_unref(s->snap);
                s->snap = n;
        }
        gw_snapshot *r = s->snap;
        gw_snapshot_ref(r);
        pthread_mutex_unlock(&s->snap_mu);
        return r;
}
