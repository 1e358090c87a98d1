/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp.listenerPath: hand the notify fd to a seccomp agent. The message is the
 * runtime-spec "containerProcessState" JSON; the fd travels in SCM_RIGHTS, named by "fds". */
#include "seccomp/seccomp.h"
#include "util/util.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Append s as a JSON string literal. */
static void json_string(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

/* The value of the top-level "pid" member of a JSON object (our own state JSON), or 0. */
static long top_level_pid(const char *json)
{
        int depth = 0;
        for (const char *p = json; *p; p++) {
                if (*p == '{' || *p == '[') {
                        depth++;
                } else if (*p == '}' || *p == ']') {
                        depth--;
                } else if (*p == '"') {
                        const char *start = ++p;
                        while (*p && *p != '"')
                                p += (*p == '\\' && p[1]) ? 2 : 1;
                        if (!*p)
                                return 0;
                        size_t len = (size_t)(p - start);
                        if (depth != 1 || len != 3 || strncmp(start, "pid", 3) != 0)
                                continue;
                        const char *q = p + 1;
                        while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')
                                q++;
                        if (*q != ':')
                                continue;
                        return strtol(q + 1, NULL, 10);
                }
        }
        return 0;
}

char *seccomp_listener_message(const char *metadata, const char *state_json)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort(); /* out of memory */
        fprintf(f, "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%ld,", HUSK_OCI_VERSION,
                top_level_pid(state_json));
        if (metadata && *metadata) {
                fputs("\"metadata\":", f);
                json_string(f, metadata);
                fputc(',', f);
        }
        fprintf(f, "\"state\":%s}", state_json);
        fclose(f);
        return buf;
}

int seccomp_listener_connect(const char *listener_path, int *ret_fd, husk_error_t *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(listener_path) >= sizeof(sa.sun_path))
                return husk_error_set(err, ENAMETOOLONG, "seccomp listener path %s is too long",
                                      listener_path);
        strcpy(sa.sun_path, listener_path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return util_syserr(err, errno, "seccomp listener: socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return util_syserr(err, errno, "seccomp listener: connect to %s", listener_path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int seccomp_listener_send(int sock, const char *msg, int notify_fd, husk_error_t *err)
{
        /* sendmsg only, never write(2): the container side calls this after loading a filter
         * that may notify on write (the agent would be asked about its own message). */
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        memset(&control, 0, sizeof(control));
        size_t len = strlen(msg), off = 0;
        while (off < len) {
                struct iovec iov = { .iov_base = (char *)msg + off, .iov_len = len - off };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (off == 0) { /* the fd goes with the first byte */
                        mh.msg_control = control.buf;
                        mh.msg_controllen = sizeof(control.buf);
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));
                }
                ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return util_syserr(err, errno, "seccomp listener: send the listener fd");
                off += (size_t)n;
        }
        return 0;
}

int seccomp_send_listener_md(const char *listener_path, const char *metadata, int notify_fd,
                             const char *state_json, husk_error_t *err)
{
        _cleanup_close_ int fd = -1;
        int r = seccomp_listener_connect(listener_path, &fd, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *msg = seccomp_listener_message(metadata, state_json);
        r = seccomp_listener_send(fd, msg, notify_fd, err);
        if (r < 0)
                return husk_error_prefix(err, "seccomp listener %s", listener_path);
        return 0;
}

int seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                          husk_error_t *err)
{
        return seccomp_send_listener_md(listener_path, NULL, notify_fd, state_json, err);
}
