/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: the function front door's request parsing. The input is a raw HTTP/1.1 request
 * ("METHOD URL VERSION", header lines, an empty line, the body), as recorded from clients.
 * libmicrohttpd is not fuzzed here (it is fuzzed upstream); the harness splits the request the
 * way it hands it to src/fn/front.c's handler (URL without the query string, %XX decoded) and
 * runs the pure parts of the front door on it: the Invoke path and function name
 * (fn_parse_invoke_path, fn_name_valid) and the declared Content-Length (parse_uint64). The
 * remaining checks of first_call() (method, X-Amz-Invocation-Type, payload limits) are written
 * inline against libmicrohttpd's connection and have no pure function to call; the body is
 * passed to the function unparsed. The --memory and --timeout parsers of `husk fn create` run on
 * each header value too. */
#include "fuzz.h"

#include "../../src/fn/fn.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* In place: cut the query string, decode %XX (as libmicrohttpd does before the handler). */
static void url_decode(char *u)
{
        char *q = strchr(u, '?'), *o = u;
        if (q)
                *q = '\0';
        for (char *p = u; *p; p++) {
                int h, l;
                if (p[0] == '%' && (h = hexval(p[1])) >= 0 && (l = hexval(p[2])) >= 0) {
                        *o++ = (char)(h * 16 + l);
                        p += 2;
                } else {
                        *o++ = *p;
                }
        }
        *o = '\0';
}

static void check_path(char *url)
{
        char name[FN_NAME_MAX + 1];
        url_decode(url);
        int r = fn_parse_invoke_path(url, name);
        if (r == 0) {
                if (!fn_name_valid(name) || strchr(name, '/') || strlen(name) > FN_NAME_MAX)
                        fuzz_fail("invoke path '%s' gave name '%s'", url, name);
        } else if (r != -ENOENT && r != -EINVAL) {
                fuzz_fail("invoke path '%s': unexpected %d", url, r);
        }
}

static void check_header(const char *key, const char *value)
{
        uint64_t v = 0;
        unsigned mb = 0;
        if (strcasecmp(key, "Content-Length") == 0)
                (void)parse_uint64(value, &v);
        if (fn_parse_memory_mb(value, &mb) == 0 && (mb < 16 || mb > 10240))
                fuzz_fail("memory '%s' -> %u MB, outside 16..10240", value, mb);
        (void)fn_parse_duration_ms(value, &v);
        (void)fn_name_valid(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *req = fuzz_strndup(data, size);
        char *save = NULL;
        char *line = strtok_r(req, "\n", &save);
        if (line) {
                char *method = line, *url = strchr(line, ' ');
                if (url) {
                        *url++ = '\0';
                        char *ver = strchr(url, ' ');
                        if (ver)
                                *ver = '\0';
                        (void)method;
                        check_path(url);
                }
                while ((line = strtok_r(NULL, "\n", &save))) {
                        size_t l = strlen(line);
                        if (l && line[l - 1] == '\r')
                                line[--l] = '\0';
                        if (l == 0)
                                break;
                        char *colon = strchr(line, ':');
                        if (!colon)
                                continue;
                        *colon = '\0';
                        char *value = colon + 1;
                        while (*value == ' ' || *value == '\t')
                                value++;
                        check_header(line, value);
                }
        }
        free(req);
        return 0;
}
