/* SPDX-License-Identifier: Apache-2.0 */
/* Frames on the sync socketpair (see sync.h). Used on both sides. */
#include "process/sync.h"
#include "util/util.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct frame_hdr {
        uint32_t type;
        int32_t code;
        uint32_t len;
};

int sync_send(int sock, sync_type type, int32_t code, const void *data, size_t len, int fd)
{
        if (len > SYNC_MAX_DATA)
                return -E2BIG;
        struct frame_hdr h = { .type = (uint32_t)type, .code = code, .len = (uint32_t)len };
        struct iovec iov[2] = { { .iov_base = &h, .iov_len = sizeof(h) },
                                { .iov_base = (void *)data, .iov_len = len } };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
        if (fd >= 0) {
                memset(&u, 0, sizeof(u));
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof(u.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        for (;;) {
                ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (n >= 0)
                        return (size_t)n == sizeof(h) + len ? 0 : -EMSGSIZE;
                if (errno != EINTR)
                        return -errno;
        }
}

int sync_recv(int sock, sync_msg *m)
{
        struct frame_hdr h;
        ssize_t n;

        m->type = 0;
        m->code = 0;
        m->data = NULL;
        m->len = 0;
        m->fd = -1;
        /* Size the frame first: a SEQPACKET message is read whole or truncated. */
        do
                n = recv(sock, &h, sizeof(h), MSG_PEEK | MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        if ((size_t)n < sizeof(h) || (size_t)n > sizeof(h) + SYNC_MAX_DATA)
                return -EPROTO;
        size_t dlen = (size_t)n - sizeof(h);
        _cleanup_free_ char *data = xmalloc(dlen + 1);
        struct iovec iov[2] = { { .iov_base = &h, .iov_len = sizeof(h) },
                                { .iov_base = data, .iov_len = dlen } };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = iov,
                             .msg_iovlen = 2,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf) };
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        int fd = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                    c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || h.len != dlen) {
                if (fd >= 0)
                        close(fd);
                return -EPROTO;
        }
        data[dlen] = '\0';
        m->type = h.type;
        m->code = h.code;
        m->len = dlen;
        m->data = TAKE_PTR(data);
        m->fd = fd;
        return 1;
}

int sync_expect(int sock, sync_type type, sync_msg *m)
{
        int r = sync_recv(sock, m);
        if (r < 0)
                return r;
        if (r == 0)
                return -EPIPE;
        if (m->type != (uint32_t)type) {
                sync_msg_done(m);
                return -EPROTO;
        }
        return 0;
}

void sync_msg_done(sync_msg *m)
{
        free(m->data);
        m->data = NULL;
        if (m->fd >= 0)
                close(m->fd);
        m->fd = -1;
}
