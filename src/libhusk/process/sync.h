/* SPDX-License-Identifier: Apache-2.0 */
/* The sync channel between the host side and the container side: one SOCK_SEQPACKET socketpair
 * carrying typed frames (one frame = one message) and at most one fd per frame (SCM_RIGHTS).
 * EOF means the peer died. Each frame type is a sync point; both sides name it in a comment. */
#ifndef HUSK_SYNC_H
#define HUSK_SYNC_H

#include <stddef.h>
#include <stdint.h>

typedef enum sync_type {
        SYNC_GO = 1,      /* host -> child: in the cgroup, id maps and rlimits set: start setup */
        SYNC_USERNS,      /* child -> host: user namespace unshared: write the id maps */
        SYNC_USERNS_DONE, /* host -> child */
        SYNC_PID,         /* intermediate -> host: data = container pid (after the second fork) */
        SYNC_PID_ACK,     /* host -> container process: the host knows its pid */
        SYNC_HOOKS,       /* child -> host: mounts done: run prestart/createRuntime hooks */
        SYNC_HOOKS_DONE, /* host -> child: data = state JSON (for createContainer/startContainer) */
        SYNC_PTY,        /* child -> host: fd = the pty master */
        SYNC_SECCOMP,    /* child -> host: fd = the seccomp notify listener (SCMP_ACT_NOTIFY);
                          * or code = SYNC_SECCOMP_LATE, no fd: host -> child answers with the
                          * listener message (data) and a socket connected to the agent (fd) */
        SYNC_ERROR,      /* child -> host: code = errno, data = message */
        SYNC_READY,      /* child -> host: data = phase durations (uint64_t[]): blocked on fifo */
} sync_type;

#define SYNC_MAX_DATA (256 * 1024)
#define SYNC_SECCOMP_LATE 1

typedef struct sync_msg {
        uint32_t type;
        int32_t code;
        char *data; /* allocated, NUL-terminated (len excludes the NUL), or NULL */
        size_t len;
        int fd; /* received fd (CLOEXEC), or -1 */
} sync_msg;

/* Send one frame; fd < 0: none. Returns 0 or -errno. */
int sync_send(int sock, sync_type type, int32_t code, const void *data, size_t len, int fd);
/* Receive one frame. Returns 1 on a frame, 0 on EOF, -errno on error. */
int sync_recv(int sock, sync_msg *m);
/* Receive one frame and require a type: -EPROTO on another type, -EPIPE on EOF. */
int sync_expect(int sock, sync_type type, sync_msg *m);
void sync_msg_done(sync_msg *m);

#endif
