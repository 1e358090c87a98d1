/* SPDX-License-Identifier: Apache-2.0 */
/* stop, restart and rm of detached services. A "stop" file in the container's folder tells its
 * monitor that the coming exit is wanted (no restart); the monitor records the exit, deletes the
 * OCI state and ends. When the monitor was killed these calls clean up themselves. Host side. */
#include "husk/image.h"
#include "service/service.h"
#include "state/state.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#define KILL_WAIT_MS 10000
#define MONITOR_WAIT_MS 15000

/* Signal pid only while it is the process that started at start (a pidfd pins it). */
static int signal_checked(pid_t pid, uint64_t start, int sig)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0 && errno != ENOSYS)
                return -errno;
        int r = 0;
        if (!state_pid_alive(pid, start))
                r = -ESRCH;
        else if (fd >= 0)
                r = syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0 ? -errno : 0;
        else
                r = kill(pid, sig) < 0 ? -errno : 0;
        if (fd >= 0)
                close(fd);
        return r;
}

static bool wait_gone(pid_t pid, uint64_t start, unsigned ms)
{
        uint64_t end = now_ns() + (uint64_t)ms * 1000000;
        while (state_pid_alive(pid, start)) {
                if (now_ns() >= end)
                        return false;
                poll(NULL, 0, 20);
        }
        return true;
}

/* The container's init while its OCI state says it exists and is not stopped. */
static bool ctr_process(const char *root, const char *id, pid_t *ret_pid, uint64_t *ret_start,
                        bool *ret_state)
{
        _cleanup_close_ int fd = -1;
        husk_error_t e = { 0 };
        husk_state *s = NULL;
        *ret_state = false;
        if (state_dir_open_nolock(root, id, &fd, &e) < 0 || state_load(fd, &s, &e) < 0)
                return false;
        *ret_state = true;
        husk_status_t st;
        bool up = state_status(fd, s, &st, &e) == 0 && st != HUSK_STATUS_STOPPED && s->pid > 0;
        *ret_pid = s->pid;
        *ret_start = s->pid_start_time;
        state_free(s);
        return up;
}

static int mark(int dirfd, const char *why, const char *id, husk_error_t *err)
{
        if (write_file_atomic_at(dirfd, SVC_STOP_FILE, why, strlen(why), 0600) < 0)
                return util_syserr(err, errno, "mark container %s as stopping", id);
        return 0;
}

/* End the workload (StopSignal, then SIGKILL after timeout_s) and wait for the monitor. */
static int stop_dir(const husk_global_t *caller, int dirfd, const husk_service_info_t *i,
                    unsigned timeout_s, const char *why, husk_error_t *err)
{
        husk_global_t g;
        svc_global_for(caller, i, &g);
        int r = mark(dirfd, why, i->id, err);
        if (r < 0)
                return r;
        pid_t mpid = 0, pid = 0;
        uint64_t mstart = 0, start = 0;
        bool has_state = false;
        bool monitor = svc_monitor_alive(dirfd, &mpid, &mstart);
        if (monitor)
                (void)signal_checked(mpid, mstart, SIGUSR1); /* ends a back-off wait at once */
        if (ctr_process(i->root, i->id, &pid, &start, &has_state)) {
                int sig = SIGTERM;
                if (i->stop_signal && svc_signal_parse(i->stop_signal, &sig) < 0)
                        sig = SIGTERM; /* a bad annotation must not make stop fail */
                husk_error_t e = { 0 };
                if (i->status == HUSK_SERVICE_PAUSED)
                        (void)husk_resume(&g, i->id, &e); /* a frozen process cannot act on it */
                (void)husk_kill(&g, i->id, sig, false, &e); /* gone meanwhile: fine */
                if (!wait_gone(pid, start, timeout_s * 1000)) {
                        (void)husk_kill(&g, i->id, SIGKILL, true, &e);
                        if (!wait_gone(pid, start, KILL_WAIT_MS))
                                return husk_error_set(err, ETIMEDOUT, "container %s (pid %d) did "
                                                      "not exit after SIGKILL", i->id, (int)pid);
                }
        }
        if (monitor && !wait_gone(mpid, mstart, MONITOR_WAIT_MS))
                return husk_error_set(err, ETIMEDOUT, "the monitor of %s (pid %d) did not end",
                                      i->id, (int)mpid);
        /* No monitor (killed): the OCI state is ours to delete; the folder stays. */
        if (ctr_process(i->root, i->id, &pid, &start, &has_state) || has_state)
                return husk_delete_keep_bundle(&g, i->id, true, err);
        return 0;
}

static int load(const char *store, const char *name, int *ret_fd, husk_service_info_t *ret,
                husk_error_t *err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int fd = -1;
        int r = svc_resolve(store, name, &id, &fd, err);
        if (r < 0)
                return r;
        if ((r = svc_info_load(fd, store, id, ret, err)) < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int husk_service_stop(const husk_global_t *g, const char *store, const char *name,
                      unsigned timeout_s, husk_error_t *err)
{
        husk_service_info_t i = { 0 };
        _cleanup_close_ int fd = -1;
        int r = load(store, name, &fd, &i, err);
        if (r < 0)
                return r;
        r = stop_dir(g, fd, &i, timeout_s, "stop", err);
        husk_service_info_done(&i);
        return r;
}

int husk_service_restart(const husk_global_t *g, const char *store, const char *name,
                         unsigned timeout_s, husk_error_t *err)
{
        husk_service_info_t i = { 0 };
        _cleanup_close_ int fd = -1;
        int r = load(store, name, &fd, &i, err);
        if (r < 0)
                return r;
        r = stop_dir(g, fd, &i, timeout_s, "restart", err);
        if (r >= 0) {
                (void)unlinkat(fd, SVC_STOP_FILE, 0);
                husk_global_t gg;
                svc_global_for(g, &i, &gg);
                r = svc_monitor_spawn(&gg, i.store, i.id, err);
        }
        husk_service_info_done(&i);
        return r;
}

int husk_service_rm(const husk_global_t *g, const char *store, const char *name, bool force,
                    husk_error_t *err)
{
        husk_service_info_t i = { 0 };
        _cleanup_close_ int fd = -1;
        int r = load(store, name, &fd, &i, err);
        if (r == -ENOENT) {
                /* Not a service: the folder of a foreground `husk run IMAGE` (killed, or still
                 * running) is removed the same way. */
                husk_error_t e2 = { 0 };
                int r2 = svc_rm_folder(g, store, name, force, &e2);
                if (r2 != 1) {
                        *err = e2;
                        return r2;
                }
        }
        if (r < 0)
                return r;
        bool active = i.status != HUSK_SERVICE_EXITED &&
                      (i.status != HUSK_SERVICE_CREATED || i.monitor_alive);
        if (active && !force) {
                r = husk_error_set(err, EBUSY, "cannot remove container %s: it is %s (stop it "
                                   "first, or rm -f)", i.id, husk_service_status_name(i.status));
                goto out;
        }
        husk_global_t gg;
        svc_global_for(g, &i, &gg);
        if ((r = mark(fd, "rm", i.id, err)) < 0)
                goto out;
        pid_t mpid = 0;
        uint64_t mstart = 0;
        /* The monitor goes first (no restart, no record), then the container with everything. */
        if (svc_monitor_alive(fd, &mpid, &mstart) && signal_checked(mpid, mstart, SIGKILL) == 0 &&
            !wait_gone(mpid, mstart, MONITOR_WAIT_MS)) {
                r = husk_error_set(err, ETIMEDOUT, "the monitor of %s (pid %d) did not end", i.id,
                                   (int)mpid);
                goto out;
        }
        pid_t pid = 0;
        uint64_t start = 0;
        bool has_state = false;
        (void)ctr_process(i.root, i.id, &pid, &start, &has_state);
        if (has_state && (r = husk_delete(&gg, i.id, true, err)) < 0)
                goto out;
        r = husk_image_container_remove(i.bundle, i.id, err);
        if (r == -ENOENT) {
                husk_error_clear(err); /* husk_delete took it with the state */
                r = 0;
        }
out:
        husk_service_info_done(&i);
        return r;
}
