/* SPDX-License-Identifier: Apache-2.0 */
/* Regression (found by fuzz_cli, UBSan: signed overflow in svc_time_parse): RFC 3339 times after
 * 2262 do not fit in int64 nanoseconds; they were accepted with a wrapped value (9999-12-31
 * became a date in 1816). Likewise `logs --since` with a bare date after 2262 and a duration
 * whose terms add up past int64. They are refused now; the edges still parse. And (fuzz_state)
 * the age of a service whose exit record says 1727 overflowed now - finishedAt: it is saturated
 * ("292 years ago", not "Less than a second ago"). TAP output. */
#include "husk/service.h"
#include "service/service.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int n, bad;

static void is(bool cond, const char *what)
{
        printf("%s %d - %s\n", cond ? "ok" : "not ok", ++n, what);
        if (!cond)
                bad = 1;
}

int main(void)
{
        int64_t v = 0;
        const int64_t now = 1700000000000000000LL;
        printf("1..9\n");
        is(svc_time_parse("9999-12-31T23:59:59Z", &v) < 0,
           "year 9999 refused (overflows int64 ns)");
        is(svc_time_parse("2262-04-11T23:47:17Z", &v) < 0, "one second past int64 ns refused");
        is(svc_time_parse("2262-04-11T23:47:16.854775807Z", &v) == 0 && v == INT64_MAX,
           "the last representable nanosecond parses");
        is(svc_time_parse("1970-01-01T00:00:00Z", &v) == 0 && v == 0, "the epoch parses");
        is(svc_since_parse("9999-12-31", now, &v) < 0, "--since with a date after 2262 refused");
        is(svc_since_parse("9000000000s9000000000s", now, &v) < 0,
           "--since with a duration past int64 refused");
        is(svc_since_parse("2262-04-11", now, &v) == 0, "--since 2262-04-11 parses");
        husk_service_info_t i = { .status = HUSK_SERVICE_EXITED, .has_exit = true,
                                  .exit_code = 3 };
        char buf[128];
        is(svc_time_parse("1727-12-07T12:32:32Z", &i.finished) == 0, "a 1727 exit time parses");
        svc_status_text(&i, now, buf, sizeof(buf));
        printf("# %s\n", buf);
        is(strstr(buf, "years ago") != NULL, "its age does not wrap around");
        return bad;
}
