/* SPDX-License-Identifier: Apache-2.0 */
/* Acts like conmon / the containerd shim: becomes a child subreaper, runs a command (husk create)
 * and waits for it, then reads PIDFILE and prints "ppid-ok" when the container process is now its
 * child (reparented to us), or "ppid=N self=M" otherwise. Then it waits up to TIMEOUT seconds for
 * the container process to exit and prints "exit=STATUS" (or "timeout").
 * usage: subreaper PIDFILE TIMEOUT CMD [ARGS...] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static long ppid_of(long pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        long ppid = -1;
        if (!p || sscanf(p + 2, "%*c %ld", &ppid) != 1)
                return -1;
        return ppid;
}

int main(int argc, char **argv)
{
        if (argc < 4) {
                fprintf(stderr, "usage: subreaper PIDFILE TIMEOUT CMD [ARGS...]\n");
                return 2;
        }
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
                perror("prctl");
                return 1;
        }
        pid_t c = fork();
        if (c == 0) {
                execvp(argv[3], argv + 3);
                perror("exec");
                _exit(127);
        }
        int st;
        if (waitpid(c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "subreaper: command failed\n");
                return 1;
        }
        FILE *f = fopen(argv[1], "re");
        long pid = 0;
        char extra;
        if (!f || fscanf(f, "%ld%c", &pid, &extra) != 1) {
                fprintf(stderr, "subreaper: bad pid file (digits only, no newline)\n");
                return 1;
        }
        fclose(f);
        long pp = ppid_of(pid);
        if (pp == (long)getpid())
                printf("ppid-ok\n");
        else
                printf("ppid=%ld self=%ld\n", pp, (long)getpid());
        fflush(stdout);
        int timeout = (int)strtol(argv[2], NULL, 10);
        for (int i = 0; i < timeout * 10; i++) {
                pid_t w = waitpid((pid_t)pid, &st, WNOHANG);
                if (w == (pid_t)pid) {
                        printf("exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                        return 0;
                }
                if (w < 0 && errno == ECHILD)
                        break;
                usleep(100000);
        }
        printf("timeout\n");
        return 0;
}
