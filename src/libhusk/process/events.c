/* SPDX-License-Identifier: Apache-2.0 */
/* husk_stats_json: one `events --stats` object for a container, read from its cgroup; and the
 * event stream of `events` (OOM notifications, the container's end). Host side. */
#include "cgroup/cgroup.h"
#include "state/state.h"
#include "util/json.h"
#include "util/util.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The state and cgroup of a container that is not stopped (stats and events need both). On
 * failure nothing is returned. */
static int load_running(const husk_global_t *g, const char *id, husk_state **ret_st,
                        cgroup_handle **ret_cg, husk_error_t *err)
{
        const char *root = g && g->root ? g->root : state_default_root();
        int r = husk_id_validate(id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int dirfd = -1;
        if ((r = state_dir_open_nolock(root, id, &dirfd, err)) < 0)
                return r;
        husk_state *st = NULL;
        if ((r = state_load(dirfd, &st, err)) < 0)
                return r;
        husk_status_t status;
        r = state_status(dirfd, st, &status, err);
        if (r == 0 && status == HUSK_STATUS_STOPPED)
                r = husk_error_set(err, ESRCH, "container not running");
        if (r == 0 && (!st->cgroup || !st->cgroup[0]))
                r = husk_error_set(err, ENOENT, "container %s has no cgroup", id);
        cgroup_handle *h = NULL;
        if (r == 0)
                r = cgroup_deserialize(st->cgroup, &h, err);
        if (r < 0) {
                state_free(st);
                return r;
        }
        *ret_st = st;
        *ret_cg = h;
        return 0;
}

int husk_stats_json(const husk_global_t *g, const char *id, char **ret_json, husk_error_t *err)
{
        husk_state *st = NULL;
        cgroup_handle *h = NULL;
        int r = load_running(g, id, &st, &h, err);
        if (r < 0)
                return r;
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "type", "stats");
        json_kv_str(w, "id", id);
        json_key(w, "data");
        cgroup_stats_write(h, w);
        json_obj_end(w);
        *ret_json = json_writer_finish(w);
        cgroup_handle_free(h);
        state_free(st);
        return 0;
}

/* ---------------- events: OOM notifications and the end of the container ---------------- */

struct husk_events {
        cgroup_handle *cg;
        int pidfd; /* the container's init: readable once it has exited */
        int oomfd; /* cgroup_oom_open, or -1 (no memory hierarchy) */
        uint64_t oom_last;
        unsigned oom_pending;
};

void husk_events_free(husk_events_t *ev)
{
        if (!ev)
                return;
        util_closep(&ev->pidfd);
        util_closep(&ev->oomfd);
        cgroup_handle_free(ev->cg);
        free(ev);
}

int husk_events_open(const husk_global_t *g, const char *id, husk_events_t **ret,
                     husk_error_t *err)
{
        husk_state *st = NULL;
        cgroup_handle *h = NULL;
        int r = load_running(g, id, &st, &h, err);
        if (r < 0)
                return r;
        husk_events_t *ev = xcalloc(1, sizeof(*ev));
        ev->pidfd = ev->oomfd = -1;
        ev->cg = h;
        ev->pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0); /* always close-on-exec */
        if (ev->pidfd < 0)
                r = util_syserr(err, errno, "pidfd_open %d", (int)st->pid);
        else if (!state_pid_alive(st->pid, st->pid_start_time))
                r = husk_error_set(err, ESRCH, "container not running");
        if (r == 0) {
                /* Statistics still work without OOM notifications: say why there are none. */
                husk_error_t oerr = { 0 };
                if (cgroup_oom_open(ev->cg, &ev->oomfd, &ev->oom_last, &oerr) < 0 && g && g->warn) {
                        char msg[HUSK_ERROR_MSG_MAX + 40];
                        snprintf(msg, sizeof(msg), "events: no OOM notifications: %s", oerr.msg);
                        g->warn(msg);
                }
        }
        state_free(st);
        if (r < 0) {
                husk_events_free(ev);
                return r;
        }
        *ret = ev;
        return 0;
}

int husk_events_next(husk_events_t *ev, uint64_t deadline_ns, husk_event_type_t *ret,
                     husk_error_t *err)
{
        for (;;) {
                if (ev->oom_pending) {
                        ev->oom_pending--;
                        *ret = HUSK_EVENT_OOM;
                        return 0;
                }
                struct pollfd p[2] = { { .fd = ev->oomfd, .events = POLLIN },
                                       { .fd = ev->pidfd, .events = POLLIN } };
                uint64_t now = now_ns();
                int timeout = now >= deadline_ns
                                      ? 0
                                      : (int)((deadline_ns - now + 999999) / 1000000);
                int n = poll(p, 2, timeout);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return util_syserr(err, errno, "poll");
                /* An OOM that kills init signals the eventfd before init is gone: read it first. */
                if (p[0].revents & POLLIN) {
                        int r = cgroup_oom_read(ev->cg, ev->oomfd, &ev->oom_last, &ev->oom_pending,
                                                err);
                        if (r == -ENOENT) {
                                husk_error_clear(err);
                                *ret = HUSK_EVENT_EXIT;
                                return 0;
                        }
                        if (r < 0)
                                return r;
                        if (ev->oom_pending)
                                continue;
                }
                if (p[1].revents & (POLLIN | POLLHUP)) {
                        *ret = HUSK_EVENT_EXIT;
                        return 0;
                }
                if (n == 0 || now_ns() >= deadline_ns) {
                        *ret = HUSK_EVENT_STATS;
                        return 0;
                }
        }
}
