/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn ARGS...` runs husk-fn (the function host, its own program so that husk itself links
 * neither libmicrohttpd nor SQLite): first the husk-fn next to this husk binary (a build tree),
 * then the installed one in $(pkglibexecdir). */
#include "cli.h"
#include "util/util.h"

#include <limits.h>
#include <string.h>

#ifndef HUSK_FN_PATH
#define HUSK_FN_PATH "/usr/local/libexec/husk/husk-fn"
#endif

int cmd_fn(cli_ctx *c, int argc, char **argv)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char **av = xcalloc((size_t)argc + 1, sizeof(char *));
        av[0] = (char *)"husk-fn";
        for (int i = 1; i < argc; i++)
                av[i] = argv[i];
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        _cleanup_free_ char *next = xasprintf("%.*s/husk-fn", (int)(slash - self), self);
                        execv(next, av);
                }
        }
        execv(HUSK_FN_PATH, av);
        int e = errno;
        free(av);
        return cli_fail(c, "fn: cannot run husk-fn (next to husk or %s): %s", HUSK_FN_PATH,
                        strerror(e));
}
