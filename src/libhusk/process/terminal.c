/* SPDX-License-Identifier: Apache-2.0 */
/* Ptys: created inside the container (its own devpts), passed out as the master fd. */
#include "process/process.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int terminal_open_pty(const config_process *p, int *ret_master, int *ret_slave, husk_error_t *err)
{
        /* Container side, after the pivot: /dev/ptmx is the container's devpts instance, so the
         * pty is fresh and not shared with the host (CVE-2017-5226 needs setsid + a new pty). */
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return util_syserr(err, errno, "open /dev/ptmx in the container");
        if (unlockpt(master) < 0)
                return util_syserr(err, errno, "unlockpt");
        /* TIOCGPTPEER opens the peer without a path lookup in the container's /dev/pts. */
        _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) {
                char name[64];
                if (ptsname_r(master, name, sizeof(name)) != 0)
                        return util_syserr(err, errno, "ptsname");
                slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0)
                        return util_syserr(err, errno, "open %s", name);
        }
        /* The process's user owns its terminal (runc's fixStdioPermissions): only the uid, the
         * group stays what devpts gave it (gid=5 "tty" with runc's and podman's mount options).
         * EINVAL/EPERM: the ids are not mapped in this user namespace; leave it, as runc does. */
        if (p->user.uid != 0 && fchown(slave, (uid_t)p->user.uid, (gid_t)-1) < 0 &&
            errno != EINVAL && errno != EPERM)
                return util_syserr(err, errno, "chown the pty to uid %u", (unsigned)p->user.uid);
        if (p->has_console_size) {
                struct winsize ws = { .ws_row = (unsigned short)p->console_height,
                                      .ws_col = (unsigned short)p->console_width };
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return util_syserr(err, errno, "set the console size");
        }
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

int terminal_connect(const char *path, int *ret_fd, husk_error_t *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return husk_error_set(err, ENAMETOOLONG, "console socket path too long: %s", path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return util_syserr(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return util_syserr(err, errno, "connect to console socket %s", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int terminal_send_master(int sock, int master, husk_error_t *err)
{
        /* ENGINES.md section 4: exactly one message, 9 bytes "/dev/ptmx" and one fd. */
        static const char name[] = "/dev/ptmx";
        struct iovec iov = { .iov_base = (void *)name, .iov_len = sizeof(name) - 1 };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct msghdr mh = { .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &master, sizeof(int));
        ssize_t n;
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return util_syserr(err, errno, "send the pty master to the console socket");
        return 0;
}

int terminal_clear_onlcr(int master)
{
        /* termios ioctls on a pty master act on its slave: the container's output keeps its
         * bare "\n" (runc's recvtty does the same with the master it receives) */
        struct termios t;
        if (tcgetattr(master, &t) < 0)
                return -errno;
        t.c_oflag &= ~(tcflag_t)ONLCR;
        if (tcsetattr(master, TCSANOW, &t) < 0)
                return -errno;
        return 0;
}

int terminal_make_raw(int fd, struct termios *saved)
{
        if (tcgetattr(fd, saved) < 0)
                return -errno;
        struct termios t = *saved;
        cfmakeraw(&t);
        /* Output processing stays on (as runc's console.SetRaw has it): with ONLCR cleared on
         * the container's pty, the host terminal adds the "\r" itself, and a redirected stdout
         * gets plain "\n" lines. */
        t.c_oflag |= OPOST;
        if (tcsetattr(fd, TCSANOW, &t) < 0)
                return -errno;
        return 0;
}

void terminal_restore(int fd, const struct termios *saved)
{
        /* Best effort: the terminal may be gone already. */
        (void)tcsetattr(fd, TCSANOW, saved);
}

int terminal_copy_winsize(int from, int to)
{
        struct winsize ws;
        if (ioctl(from, TIOCGWINSZ, &ws) < 0)
                return -errno;
        if (ioctl(to, TIOCSWINSZ, &ws) < 0)
                return -errno;
        return 0;
}
