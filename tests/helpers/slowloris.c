/* SPDX-License-Identifier: Apache-2.0 */
/* A slow-loris client for the function host's tests (loopback only, bounded in count and time).
 *   slowloris HOST:PORT N INTERVAL_MS MAX_S
 * Opens N connections, sends the start of an Invoke request on each, then one more header byte
 * on each every INTERVAL_MS, never ending the headers, for at most MAX_S seconds. Prints
 *   opened N closed C open O max_ms M
 * C: connections the server closed; M: the longest time (from connect) one of them lived. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
        if (argc != 5) {
                fprintf(stderr, "usage: slowloris HOST:PORT N INTERVAL_MS MAX_S\n");
                return 2;
        }
        char host[64];
        int port = 0;
        if (sscanf(argv[1], "%63[^:]:%d", host, &port) != 2)
                return 2;
        int n = atoi(argv[2]), interval = atoi(argv[3]), max_s = atoi(argv[4]);
        if (n < 1 || n > 1000 || interval < 1 || max_s < 1 || max_s > 600)
                return 2;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
        if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || a.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
                return 2; /* loopback only */
        int *fd = calloc((size_t)n, sizeof(int));
        long *t0 = calloc((size_t)n, sizeof(long)), *dead = calloc((size_t)n, sizeof(long));
        static const char head[] = "POST /2015-03-31/functions/fn-echo/invocations HTTP/1.1\r\n"
                                   "Host: x\r\nX-Slow: ";
        int opened = 0;
        for (int i = 0; i < n; i++) {
                fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                t0[i] = now_ms();
                if (fd[i] < 0 || connect(fd[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
                    send(fd[i], head, sizeof(head) - 1, MSG_NOSIGNAL) < 0) {
                        dead[i] = -1;
                        continue;
                }
                opened++;
        }
        long start = now_ms(), max_ms = 0;
        int closed = 0;
        while (now_ms() - start < max_s * 1000L && closed < opened) {
                struct timespec ts = { interval / 1000, (interval % 1000) * 1000000L };
                nanosleep(&ts, NULL);
                for (int i = 0; i < n; i++) {
                        if (dead[i])
                                continue;
                        char c;
                        ssize_t k = recv(fd[i], &c, 1, MSG_DONTWAIT);
                        bool gone = k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
                        if (!gone && send(fd[i], "a", 1, MSG_NOSIGNAL) < 0)
                                gone = true;
                        if (gone) {
                                dead[i] = now_ms();
                                if (dead[i] - t0[i] > max_ms)
                                        max_ms = dead[i] - t0[i];
                                closed++;
                        }
                }
        }
        printf("opened %d closed %d open %d max_ms %ld\n", opened, closed, opened - closed, max_ms);
        return 0;
}
