/* SPDX-License-Identifier: Apache-2.0 */
/* husk-fn: the zygote. husk_create clones the container process from the calling process (no
 * re-exec); cloning from the multi-threaded server would copy locks other threads hold (malloc,
 * stdio) into a child that has only one thread. So the server forks this helper before it makes
 * any thread; the helper stays single-threaded, runs husk_create with the worker's pipe as its
 * stdout/stderr, and reaps the workers (they are its children), reporting each exit.
 * Frames on one SOCK_SEQPACKET pair: request {id, bundle} + the output fd (SCM_RIGHTS);
 * reply {r, pid, msg}; exit {pid, status} at any time. */
#include "fn.h"
#include "util/util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

enum { Z_CREATE = 1, Z_REPLY, Z_EXIT };

typedef struct zmsg {
        int type;
        int r;
        pid_t pid;
        int status;
        char id[256];
        char text[HUSK_ERROR_MSG_MAX]; /* CREATE: bundle; REPLY: error message */
} zmsg;

struct fn_zygote {
        int fd;
        pid_t pid;
        pthread_t reader;
        bool reader_started;
        pthread_mutex_t mu;   /* one create at a time */
        pthread_mutex_t rmu;  /* reply slot */
        pthread_cond_t rcv;
        bool have_reply, dead;
        zmsg reply;
        void (*on_exit)(void *ud, pid_t pid, int status);
        void *ud;
};

static int send_msg(int fd, const zmsg *m, int pass_fd)
{
        struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (pass_fd >= 0) {
                memset(&u, 0, sizeof(u));
                mh.msg_control = u.buf;
                mh.msg_controllen = sizeof(u.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n == (ssize_t)sizeof(*m) ? 0 : -EPIPE;
}

/* 0 and the frame (and an fd or -1), -EPIPE on EOF. */
static int recv_msg(int fd, zmsg *m, int *ret_fd)
{
        struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf) };
        ssize_t n;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(*m))
                return -EPIPE;
        if (ret_fd) {
                *ret_fd = -1;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                if (c && c->cmsg_type == SCM_RIGHTS)
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        }
        return 0;
}

/* Zygote side (its own process, one thread): create one container with out as stdout/err. */
static void zygote_create(const char *root, zmsg *m, int out)
{
        husk_global_t g = { .root = root };
        husk_create_opts_t o = { .id = m->id, .bundle = m->text };
        husk_error_t err = { 0 };
        int save1 = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        int save2 = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        int r = husk_create(&g, &o, &err);
        dup2(save1, STDOUT_FILENO);
        dup2(save2, STDERR_FILENO);
        close(save1);
        close(save2);
        m->type = Z_REPLY;
        m->r = r;
        m->pid = 0;
        if (r < 0) {
                snprintf(m->text, sizeof(m->text), "%s", err.msg);
        } else {
                char *json = NULL;
                /* The pid from the state (husk_create does not return it). */
                if (husk_state_json(&g, m->id, &json, &err) == 0) {
                        const char *p = strstr(json, "\"pid\"");
                        if (p && (p = strchr(p, ':')))
                                m->pid = (pid_t)strtol(p + 1, NULL, 10);
                        free(json);
                }
                m->text[0] = '\0';
        }
}

static _Noreturn void zygote_main(int fd, const char *root)
{
        /* Only the socket and stdio stay: nothing of the server leaks into the workers. */
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
                dup2(devnull, STDIN_FILENO);
                dup2(devnull, STDOUT_FILENO);
                /* stderr stays: husk_create never prints, and the server's is useful */
        }
        prctl(PR_SET_NAME, "husk-fn-zygote");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        _exit(1);
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                                ;
                        int st;
                        pid_t pid;
                        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
                                zmsg e = { .type = Z_EXIT, .pid = pid, .status = st };
                                if (send_msg(fd, &e, -1) < 0)
                                        _exit(0);
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        static zmsg m;
                        int out = -1;
                        if (recv_msg(fd, &m, &out) < 0)
                                _exit(0); /* the server is gone */
                        if (m.type == Z_CREATE && out >= 0) {
                                m.id[sizeof(m.id) - 1] = m.text[sizeof(m.text) - 1] = '\0';
                                zygote_create(root, &m, out);
                                close(out);
                                if (send_msg(fd, &m, -1) < 0)
                                        _exit(0);
                        } else if (out >= 0) {
                                close(out);
                        }
                }
        }
}

/* Server side: frames from the zygote (replies and exits). */
static void *reader_main(void *arg)
{
        fn_zygote *z = arg;
        for (;;) {
                zmsg m;
                if (recv_msg(z->fd, &m, NULL) < 0)
                        break;
                if (m.type == Z_EXIT) {
                        if (z->on_exit)
                                z->on_exit(z->ud, m.pid, m.status);
                        continue;
                }
                pthread_mutex_lock(&z->rmu);
                z->reply = m;
                z->have_reply = true;
                pthread_cond_broadcast(&z->rcv);
                pthread_mutex_unlock(&z->rmu);
        }
        pthread_mutex_lock(&z->rmu);
        z->dead = true;
        pthread_cond_broadcast(&z->rcv);
        pthread_mutex_unlock(&z->rmu);
        return NULL;
}

int fn_zygote_start(const char *root, void (*on_exit)(void *ud, pid_t pid, int status), void *ud,
                    fn_zygote **ret, husk_error_t *err)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return util_syserr(err, errno, "socketpair");
        pid_t pid = fork();
        if (pid < 0) {
                close(sp[0]);
                close(sp[1]);
                return util_syserr(err, errno, "fork the zygote");
        }
        if (pid == 0) {
                close(sp[0]);
                zygote_main(sp[1], root);
        }
        close(sp[1]);
        fn_zygote *z = xcalloc(1, sizeof(*z));
        z->fd = sp[0];
        z->pid = pid;
        z->on_exit = on_exit;
        z->ud = ud;
        pthread_mutex_init(&z->mu, NULL);
        pthread_mutex_init(&z->rmu, NULL);
        pthread_cond_init(&z->rcv, NULL);
        *ret = z;
        return 0;
}

/* The reader thread starts with the first create: fn_zygote_start runs before any thread. */
static void start_reader(fn_zygote *z)
{
        if (!z->reader_started && pthread_create(&z->reader, NULL, reader_main, z) == 0)
                z->reader_started = true;
}

int fn_zygote_create(fn_zygote *z, const char *id, const char *bundle, int out_fd, pid_t *ret_pid,
                     husk_error_t *err)
{
        zmsg m = { .type = Z_CREATE };
        if (strlen(id) >= sizeof(m.id) || strlen(bundle) >= sizeof(m.text))
                return husk_error_set(err, ENAMETOOLONG, "worker id or bundle path too long");
        strcpy(m.id, id);
        strcpy(m.text, bundle);
        pthread_mutex_lock(&z->mu);
        pthread_mutex_lock(&z->rmu);
        start_reader(z);
        z->have_reply = false;
        pthread_mutex_unlock(&z->rmu);
        int r = send_msg(z->fd, &m, out_fd);
        pthread_mutex_lock(&z->rmu);
        while (r == 0 && !z->have_reply && !z->dead)
                pthread_cond_wait(&z->rcv, &z->rmu);
        if (r < 0 || !z->have_reply) {
                r = husk_error_set(err, EPIPE, "the zygote process is gone");
        } else if (z->reply.r < 0) {
                r = husk_error_set(err, -z->reply.r, "%s", z->reply.text);
        } else {
                *ret_pid = z->reply.pid;
                r = 0;
        }
        z->have_reply = false;
        pthread_mutex_unlock(&z->rmu);
        pthread_mutex_unlock(&z->mu);
        return r;
}

void fn_zygote_start_reader(fn_zygote *z)
{
        pthread_mutex_lock(&z->rmu);
        start_reader(z);
        pthread_mutex_unlock(&z->rmu);
}

void fn_zygote_stop(fn_zygote *z)
{
        if (!z)
                return;
        shutdown(z->fd, SHUT_RDWR);
        if (z->reader_started)
                pthread_join(z->reader, NULL);
        close(z->fd);
        int st;
        kill(z->pid, SIGKILL);
        waitpid(z->pid, &st, 0);
        free(z);
}
