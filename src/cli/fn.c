/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn ARGS...` runs husk-fn (the function host, its own program so that husk itself links
 * neither libmicrohttpd nor SQLite): first the husk-fn next to this husk binary (a build tree),
 * then the installed one in $(pkglibexecdir). Built into a small library of its own (Makefile.am,
 * fn block) for the -DHUSK_FN_PATH flag; it uses nothing of libhusk. */
#include "cli.h"
#include "image.h" /* cli_fn_output */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HUSK_FN_PATH
#define HUSK_FN_PATH "/usr/local/libexec/husk/husk-fn"
#endif

/* Runs husk-fn (found as cmd_fn finds it) with argv and returns what it printed on stdout, or
 * NULL when it could not run or failed. Its stderr is discarded. */
char *cli_fn_output(char *const *argv)
{
        char self[PATH_MAX], next[PATH_MAX + 16];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        next[0] = '\0';
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash)
                        snprintf(next, sizeof(next), "%.*s/husk-fn", (int)(slash - self), self);
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return NULL;
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return NULL;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (dup2(p[1], STDOUT_FILENO) < 0 || (null >= 0 && dup2(null, STDERR_FILENO) < 0))
                        _exit(127);
                if (next[0])
                        execv(next, argv);
                execv(HUSK_FN_PATH, argv);
                _exit(127);
        }
        close(p[1]);
        char *out = NULL;
        size_t len = 0;
        for (;;) {
                char buf[4096];
                ssize_t k = read(p[0], buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0 || len + (size_t)k > (1u << 20))
                        break;
                char *grown = realloc(out, len + (size_t)k + 1);
                if (!grown)
                        break;
                out = grown;
                memcpy(out + len, buf, (size_t)k);
                len += (size_t)k;
                out[len] = '\0';
        }
        close(p[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                free(out);
                return NULL;
        }
        return out ? out : strdup("");
}

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
