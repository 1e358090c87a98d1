/* SPDX-License-Identifier: Apache-2.0 */
/* The client of tools/bench-fn: N sequential Invoke requests to the front door over one
 * keep-alive connection (or a new one per request with -c), gap_ms apart; prints each round
 * trip in microseconds, one per line, and exits 1 when an answer is not 200.
 * usage: fn-load [-c] HOST:PORT NAME N [GAP_MS] [PAYLOAD] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int dial(struct sockaddr_in *a)
{
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (s < 0 || connect(s, (struct sockaddr *)a, sizeof(*a)) < 0) {
                perror("connect");
                exit(2);
        }
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return s;
}

int main(int argc, char **argv)
{
        int fresh = argc > 1 && strcmp(argv[1], "-c") == 0;
        argv += fresh;
        argc -= fresh;
        if (argc < 4) {
                fprintf(stderr, "usage: fn-load [-c] HOST:PORT NAME N [GAP_MS] [PAYLOAD]\n");
                return 2;
        }
        char host[64];
        int port;
        if (sscanf(argv[1], "%63[^:]:%d", host, &port) != 2)
                return 2;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
        inet_pton(AF_INET, host, &a.sin_addr);
        int n = atoi(argv[3]), gap = argc > 4 ? atoi(argv[4]) : 0;
        const char *payload = argc > 5 ? argv[5] : "{\"bench\":1}";
        char req[4096];
        int len = snprintf(req, sizeof(req),
                           "POST /2015-03-31/functions/%s/invocations HTTP/1.1\r\nHost: %s\r\n"
                           "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                           argv[2], argv[1], strlen(payload), payload);
        int s = -1, bad = 0;
        static char buf[1 << 20];
        for (int i = 0; i < n; i++) {
                if (gap)
                        usleep((useconds_t)gap * 1000);
                if (s < 0 || fresh) {
                        if (s >= 0)
                                close(s);
                        s = dial(&a);
                }
                long long t0 = now_us();
                if (write(s, req, (size_t)len) != len)
                        return 2;
                size_t have = 0;
                long clen = -1;
                char *body = NULL;
                for (;;) {
                        ssize_t k = read(s, buf + have, sizeof(buf) - 1 - have);
                        if (k <= 0)
                                return 2;
                        have += (size_t)k;
                        buf[have] = '\0';
                        if (!body && (body = strstr(buf, "\r\n\r\n"))) {
                                body += 4;
                                char *cl = strcasestr(buf, "\r\nContent-Length:");
                                clen = cl ? strtol(cl + 17, NULL, 10) : 0;
                        }
                        if (body && (long)(have - (size_t)(body - buf)) >= clen)
                                break;
                }
                long long dt = now_us() - t0;
                if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || strcasestr(buf, "X-Amz-Function-Error"))
                        bad++;
                printf("%lld\n", dt);
        }
        return bad ? 1 : 0;
}
