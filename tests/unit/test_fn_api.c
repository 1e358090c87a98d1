/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure parts of Lambda's control plane (issue 14, src/fn/plan.c): function
 * names as ARNs, LastModified, CodeSha256; and the function record's new fields in
 * src/fn/db.c, including a store made before them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../src/fn/fn.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

static void test_arn_name(void **state)
{
        (void)state;
        char n[FN_NAME_MAX + 1];
        assert_int_equal(fn_arn_name("my-fn_1", n), 0);
        assert_string_equal(n, "my-fn_1");
        assert_int_equal(fn_arn_name("f:$LATEST", n), 0);
        assert_string_equal(n, "f");
        assert_int_equal(fn_arn_name("123456789012:function:f", n), 0);
        assert_string_equal(n, "f");
        assert_int_equal(fn_arn_name("arn:aws:lambda:us-east-1:123456789012:function:f", n), 0);
        assert_string_equal(n, "f");
        assert_int_equal(fn_arn_name("arn:aws:lambda:eu-west-2:000000000000:function:g:$LATEST", n), 0);
        assert_string_equal(n, "g");
        assert_int_equal(fn_arn_name("arn:aws-cn:lambda:cn-north-1:000000000000:function:g", n), 0);
        /* versions and aliases: a valid form, but none exists here */
        assert_int_equal(fn_arn_name("f:7", n), -ENOENT);
        assert_int_equal(fn_arn_name("arn:aws:lambda:us-east-1:123456789012:function:f:prod", n), -ENOENT);
        /* not names */
        assert_int_equal(fn_arn_name("", n), -EINVAL);
        assert_int_equal(fn_arn_name(NULL, n), -EINVAL);
        assert_int_equal(fn_arn_name("a/b", n), -EINVAL);
        assert_int_equal(fn_arn_name("..", n), -EINVAL);
        assert_int_equal(fn_arn_name("f:", n), -EINVAL);
        assert_int_equal(fn_arn_name("f:a/b", n), -EINVAL);
        assert_int_equal(fn_arn_name("12345:function:f", n), -EINVAL);
        assert_int_equal(fn_arn_name("123456789012:layer:f", n), -EINVAL);
        assert_int_equal(fn_arn_name("arn:aws:s3:us-east-1:123456789012:function:f", n), -EINVAL);
        assert_int_equal(fn_arn_name("arn:aws:lambda:us-east-1:123456789012:function:", n), -EINVAL);
        assert_int_equal(fn_arn_name("a:b:c:d:e:f:g:h:i:j", n), -EINVAL);
        char *longn = xasprintf("%0100d", 0);
        assert_int_equal(fn_arn_name(longn, n), -EINVAL);
        free(longn);
}

static void test_lambda_time(void **state)
{
        (void)state;
        char t[32];
        assert_int_equal(fn_lambda_time("2026-12-07T14:28:10.123456789Z", t), 0);
        assert_string_equal(t, "2026-12-07T14:28:10.123+0000");
        assert_int_equal(fn_lambda_time("2026-12-07T14:28:10Z", t), 0);
        assert_string_equal(t, "2026-12-07T14:28:10.000+0000");
        assert_int_equal(fn_lambda_time("2026-12-07T14:28:10.5Z", t), 0);
        assert_string_equal(t, "2026-12-07T14:28:10.500+0000");
        assert_int_equal(fn_lambda_time("2026-12-07 14:28:10Z", t), -EINVAL);
        assert_int_equal(fn_lambda_time("2026-12-07T14:28:10+01:00", t), -EINVAL);
        assert_int_equal(fn_lambda_time("", t), -EINVAL);
        assert_int_equal(fn_lambda_time(NULL, t), -EINVAL);
}

static void test_code_sha256(void **state)
{
        (void)state;
        char *s = fn_code_sha256("", 0);
        assert_string_equal(s, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        free(s);
        s = fn_image_code_sha256("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_string_equal(s, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        free(s);
        assert_null(fn_image_code_sha256("sha256:e3b0"));
        assert_null(fn_image_code_sha256("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        assert_null(fn_image_code_sha256("sha256:X3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        assert_null(fn_image_code_sha256(NULL));
        assert_non_null(fn_host_arch());
}

static char *tmp_db(void)
{
        char dir[] = "/tmp/test_fn_api.XXXXXX";
        assert_non_null(mkdtemp(dir));
        return xasprintf("%s/fn.db", dir);
}

static void rm_db(char *path)
{
        char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
        unlink(path);
        unlink(wal);
        unlink(shm);
        *strrchr(path, '/') = '\0';
        rmdir(path);
        free(wal);
        free(shm);
        free(path);
}

/* The new fields round-trip; NULL lists stay NULL. */
static void test_db_fields(void **state)
{
        (void)state;
        char *path = tmp_db();
        fn_db *db = NULL;
        husk_error_t err = { 0 };
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        fn_def *d = fn_def_new("f");
        free(d->package_type);
        d->package_type = xstrdup("Zip");
        free(d->runtime);
        d->runtime = xstrdup("provided.al2023");
        free(d->description);
        d->description = xstrdup("two\nlines \"quoted\"");
        free(d->code_sha256);
        d->code_sha256 = xstrdup("abc=");
        d->code_size = 1234;
        char *ep[] = { "/bin/sh", "-c", NULL }, *tags[] = { "k", "v", "team", "a b", NULL };
        d->entrypoint = strv_copy(ep, 2);
        d->tags = strv_copy(tags, 4);
        d->ephemeral_mb = 2048;
        d->reserved = true;
        d->concurrency = 0;
        assert_int_equal(fn_db_put(db, d, true, &err), 0);
        fn_def *g = NULL;
        assert_int_equal(fn_db_get(db, "f", &g, &err), 0);
        assert_string_equal(g->package_type, "Zip");
        assert_string_equal(g->runtime, "provided.al2023");
        assert_string_equal(g->description, "two\nlines \"quoted\"");
        assert_string_equal(g->code_sha256, "abc=");
        assert_int_equal(g->code_size, 1234);
        assert_int_equal(strv_length(g->entrypoint), 2);
        assert_string_equal(g->entrypoint[1], "-c");
        assert_null(g->command);
        assert_int_equal(strv_length(g->tags), 4);
        assert_string_equal(g->tags[3], "a b");
        assert_int_equal(g->ephemeral_mb, 2048);
        assert_true(g->reserved);
        assert_int_equal(g->concurrency, 0);
        fn_def_free(g);
        fn_def_free(d);
        fn_db_close(db);
        rm_db(path);
}

/* A store written by husk-fn before issue 14 opens, and its functions read with the defaults. */
static void test_db_old_store(void **state)
{
        (void)state;
        char *path = tmp_db();
        sqlite3 *s = NULL;
        assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
        assert_int_equal(sqlite3_exec(s,
                "CREATE TABLE functions (name TEXT PRIMARY KEY, image TEXT NOT NULL,"
                " image_id TEXT NOT NULL, handler TEXT NOT NULL, memory_mb INTEGER NOT NULL,"
                " timeout_ms INTEGER NOT NULL, concurrency INTEGER NOT NULL, max_queue INTEGER NOT NULL,"
                " keep_warm_ms INTEGER NOT NULL, env TEXT NOT NULL, created TEXT NOT NULL,"
                " updated TEXT NOT NULL, pids INTEGER NOT NULL DEFAULT 1024,"
                " log_max_size INTEGER NOT NULL DEFAULT 10485760, log_rate INTEGER NOT NULL DEFAULT"
                " 1048576, max_events INTEGER NOT NULL DEFAULT 1000);"
                "INSERT INTO functions (name, image, image_id, handler, memory_mb, timeout_ms,"
                " concurrency, max_queue, keep_warm_ms, env, created, updated) VALUES ('old',"
                " 'img.tar', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',"
                " 'echo', 128, 3000, 4, 64, 600000, 'A=1\n', '2026-01-01T00:00:00.5Z',"
                " '2026-01-01T00:00:00.5Z');",
                NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(s);
        fn_db *db = NULL;
        husk_error_t err = { 0 };
        assert_int_equal(fn_db_open(path, &db, &err), 0);
        fn_def *g = NULL;
        assert_int_equal(fn_db_get(db, "old", &g, &err), 0);
        assert_string_equal(g->package_type, "Image");
        assert_string_equal(g->code_sha256, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        assert_string_equal(g->code_dir, "");
        assert_null(g->entrypoint);
        assert_null(g->tags);
        assert_int_equal(g->ephemeral_mb, FN_EPHEMERAL_DEFAULT_MB);
        assert_false(g->reserved);
        assert_string_equal(g->env[0], "A=1");
        char t[32];
        assert_int_equal(fn_lambda_time(g->updated, t), 0);
        assert_string_equal(t, "2026-01-01T00:00:00.500+0000");
        /* and it is written back with the new columns */
        assert_int_equal(fn_db_put(db, g, false, &err), 0);
        fn_def_free(g);
        fn_db_close(db);
        rm_db(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_arn_name),  cmocka_unit_test(test_lambda_time),
                cmocka_unit_test(test_code_sha256),
                cmocka_unit_test(test_db_fields), cmocka_unit_test(test_db_old_store),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
