/* SPDX-License-Identifier: Apache-2.0 */
/* Console socket receiver for the terminal tests: listens on PATH, accepts one connection,
 * receives one message (data + one SCM_RIGHTS fd, the pty master), checks it, then copies what the
 * container writes on the pty to stdout until the pty closes (EIO).
 * usage: recvtty PATH [INPUT]   (INPUT, if given, is written to the master first) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: recvtty PATH [INPUT]\n");
                return 2;
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
                perror("recvtty: listen");
                return 1;
        }
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
                perror("recvtty: accept");
                return 1;
        }
        char data[4096];
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) - 1 };
        struct msghdr mh = { .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf) };
        ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
                fprintf(stderr, "recvtty: no message\n");
                return 1;
        }
        data[n] = '\0';
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)) ||
            (mh.msg_flags & MSG_CTRUNC)) {
                fprintf(stderr, "recvtty: expected exactly one fd\n");
                return 1;
        }
        int master;
        memcpy(&master, CMSG_DATA(cm), sizeof(int));
        unsigned ptn;
        if (ioctl(master, TIOCGPTN, &ptn) < 0) {
                perror("recvtty: TIOCGPTN (not a pty master)");
                return 1;
        }
        fprintf(stderr, "recvtty: got \"%s\" pty %u\n", data, ptn);
        /* Like containerd: the peer is done after one message. */
        char extra;
        if (recv(c, &extra, 1, 0) != 0)
                fprintf(stderr, "recvtty: unexpected extra data\n");
        close(c);
        if (argc > 2 && write(master, argv[2], strlen(argv[2])) < 0)
                perror("recvtty: write");
        char buf[4096];
        for (;;) {
                ssize_t k = read(master, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break; /* EIO once every slave fd is closed */
                if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k)
                        return 1;
                fflush(stdout);
        }
        return 0;
}
