/* SPDX-License-Identifier: Apache-2.0 */
/* Asking husk-fn a question: `husk image rm` learns from it which functions use an image (husk
 * itself reads no fn.db: it links no SQLite). In libhuskfncli.a with `husk fn` (src/cli/fn.c) for
 * the -DHUSK_FN_PATH flag, in a file of its own so that a program can link it without the rest
 * of the CLI (tests/helpers/husk-image). */
#include "image.h" /* cli_fn_output */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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
