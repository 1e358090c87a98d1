/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal seccomp agent for the integration tests.
 *   seccomp-listener SOCKET STATE_OUT ERRNO
 * Listens on the unix socket SOCKET, accepts one runtime connection, writes the received
 * containerProcessState JSON to STATE_OUT, then answers every notification on the received fd
 * with -ERRNO (0: let the syscall continue) and appends "nr=N" per notification to STATE_OUT.log.
 * Exits 0 when the container's tasks are all gone (NOTIF_RECV fails with ENOENT). */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
        fprintf(stderr, "seccomp-listener: %s: %s\n", what, strerror(errno));
        return 1;
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: seccomp-listener SOCKET STATE_OUT ERRNO\n");
                return 2;
        }
        char *end = NULL;
        long answer = strtol(argv[3], &end, 10);
        if (!*argv[3] || *end || answer < 0 || answer > 4095) {
                fprintf(stderr, "seccomp-listener: bad errno %s\n", argv[3]);
                return 2;
        }
        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (ls < 0 || strlen(argv[1]) >= sizeof(sa.sun_path))
                return die("socket");
        strcpy(sa.sun_path, argv[1]);
        if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
                return die("bind");
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return die("accept");
        char buf[65536];
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr a;
        } ctl;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                             .msg_controllen = sizeof(ctl.b) };
        ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
                return die("recvmsg");
        buf[n] = '\0';
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        if (!h || h->cmsg_type != SCM_RIGHTS)
                return die("no fd received");
        int nfd;
        memcpy(&nfd, CMSG_DATA(h), sizeof(nfd));
        FILE *out = fopen(argv[2], "we");
        if (!out)
                return die("open state out");
        fputs(buf, out);
        fclose(out);
        char logp[4096];
        snprintf(logp, sizeof(logp), "%s.log", argv[2]);
        for (;;) {
                struct seccomp_notif req;
                memset(&req, 0, sizeof(req));
                if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == ENOENT ? 0 : die("NOTIF_RECV");
                }
                FILE *log = fopen(logp, "ae");
                if (log) {
                        fprintf(log, "nr=%d\n", req.data.nr);
                        fclose(log);
                }
                struct seccomp_notif_resp resp = { .id = req.id };
                if (answer)
                        resp.error = (int)-answer;
                else
                        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                        return die("NOTIF_SEND");
        }
}
