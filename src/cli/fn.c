/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn ARGS...` runs husk-fn (the function host, its own program so that husk itself links
 * neither libmicrohttpd nor SQLite): first the husk-fn next to this husk binary (a build tree),
 * then the installed one in $(pkglibexecdir). Built into a small library of its own (Makefile.am,
 * fn block) for the -DHUSK_FN_PATH flag; it uses nothing of libhusk. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HUSK_FN_PATH
#define HUSK_FN_PATH "/usr/local/libexec/husk/husk-fn"
#endif

int cmd_fn(cli_ctx *c, int argc, char **argv)
{
        char self[PATH_MAX], next[PATH_MAX + 16];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char **av = calloc((size_t)argc + 1, sizeof(char *));
        if (!av)
                return cli_fail(c, "fn: out of memory");
        av[0] = (char *)"husk-fn";
        for (int i = 1; i < argc; i++)
                av[i] = argv[i];
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        snprintf(next, sizeof(next), "%.*s/husk-fn", (int)(slash - self), self);
                        execv(next, av);
                }
        }
        execv(HUSK_FN_PATH, av);
        int e = errno;
        free(av);
        return cli_fail(c, "fn: cannot run husk-fn (next to husk or %s): %s", HUSK_FN_PATH,
                        strerror(e));
}
