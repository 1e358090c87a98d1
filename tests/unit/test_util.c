/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for util: checked integer parsing and error helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/util.h"

#include <string.h>

static void test_parse_uint32(void **state)
{
        uint32_t v = 7;
        assert_int_equal(parse_uint32("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_uint32("4294967295", &v), 0);
        assert_int_equal(v, 4294967295u);
        assert_int_equal(parse_uint32("4294967296", &v), -ERANGE);
        assert_int_equal(parse_uint32("-1", &v), -EINVAL);
        assert_int_equal(parse_uint32("", &v), -EINVAL);
        assert_int_equal(parse_uint32("12a", &v), -EINVAL);
        assert_int_equal(parse_uint32(" 1", &v), -EINVAL);
        assert_int_equal(parse_uint32("+1", &v), -EINVAL);
}

static void test_parse_int(void **state)
{
        int v = 0;
        assert_int_equal(parse_int("-42", &v), 0);
        assert_int_equal(v, -42);
        assert_int_equal(parse_int("2147483648", &v), -ERANGE);
        assert_int_equal(parse_int("0x10", &v), -EINVAL);
}

static void test_error_prefix(void **state)
{
        husk_error_t err = { 0 };
        assert_int_equal(husk_error_set(&err, ENOENT, "open %s", "x"), -ENOENT);
        assert_int_equal(husk_error_prefix(&err, "create %s", "c1"), -ENOENT);
        assert_string_equal(err.msg, "create c1: open x");
        assert_int_equal(util_syserr(&err, EACCES, "mkdir %s", "/a"), -EACCES);
        assert_string_equal(err.msg, "mkdir /a: Permission denied");
        assert_int_equal(husk_error_set(&err, 0, "bad"), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_uint32),
                cmocka_unit_test(test_parse_int),
                cmocka_unit_test(test_error_prefix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
