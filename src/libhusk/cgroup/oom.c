/* SPDX-License-Identifier: Apache-2.0 */
/* OOM notifications of a container's memory cgroup, for `events` (runc prints {"type":"oom"}).
 * v1: an eventfd registered on memory.oom_control through cgroup.event_control; the kernel signals
 * it at each OOM and when the cgroup is removed. v2: inotify on memory.events, whose "oom" count
 * grows at each OOM. Host side. */
#include "cgroup/cgroup_internal.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

/* v2: the "oom" line of memory.events. */
static int v2_oom_count(const char *dir, uint64_t *ret)
{
        _cleanup_free_ char *path = xasprintf("%s/memory.events", dir), *text = NULL;
        int r = read_file_at(AT_FDCWD, path, 4096, &text, NULL);
        if (r < 0)
                return r;
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, "oom ", 4) != 0)
                        continue;
                char num[24];
                size_t n = strcspn(l + 4, "\n");
                if (n == 0 || n >= sizeof(num))
                        return -EINVAL;
                memcpy(num, l + 4, n);
                num[n] = '\0';
                return parse_uint64(num, ret);
        }
        return -ENOENT;
}

int cgroup_oom_open(cgroup_handle *h, int *ret_fd, uint64_t *ret_base, husk_error_t *err)
{
        cg_hier *c = cgroup_find_hier(h, "memory");
        if (!c)
                return husk_error_set(err, ENOENT, "no memory cgroup hierarchy is mounted");
        if (h->version == 2) {
                _cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (fd < 0)
                        return util_syserr(err, errno, "inotify_init1");
                _cleanup_free_ char *path = xasprintf("%s/memory.events", c->dir);
                if (inotify_add_watch(fd, path, IN_MODIFY | IN_DELETE_SELF) < 0)
                        return util_syserr(err, errno, "watch %s", path);
                int r = v2_oom_count(c->dir, ret_base);
                if (r < 0)
                        return util_syserr(err, -r, "read %s", path);
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        _cleanup_free_ char *ctl_path = xasprintf("%s/memory.oom_control", c->dir),
                            *evc_path = xasprintf("%s/cgroup.event_control", c->dir);
        _cleanup_close_ int ctl = open(ctl_path, O_RDONLY | O_CLOEXEC);
        if (ctl < 0)
                return util_syserr(err, errno, "open %s", ctl_path);
        _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
                return util_syserr(err, errno, "eventfd");
        _cleanup_close_ int evc = open(evc_path, O_WRONLY | O_CLOEXEC);
        if (evc < 0)
                return util_syserr(err, errno, "open %s", evc_path);
        char line[32];
        int n = snprintf(line, sizeof(line), "%d %d", efd, ctl);
        if (write(evc, line, (size_t)n) < 0)
                return util_syserr(err, errno, "register an OOM eventfd in %s", evc_path);
        *ret_base = 0;
        *ret_fd = TAKE_FD(efd);
        return 0;
}

int cgroup_oom_read(cgroup_handle *h, int fd, uint64_t *last, unsigned *ret_new,
                    husk_error_t *err)
{
        cg_hier *c = cgroup_find_hier(h, "memory");
        *ret_new = 0;
        if (!c)
                return husk_error_set(err, ENOENT, "no memory cgroup hierarchy is mounted");
        if (h->version == 2) {
                char buf[4096];
                while (read(fd, buf, sizeof(buf)) > 0)
                        ; /* drain: the count says what happened */
                uint64_t now = 0;
                int r = v2_oom_count(c->dir, &now);
                if (r < 0)
                        return util_syserr(err, -r, "read %s/memory.events", c->dir);
                if (now > *last)
                        *ret_new = (unsigned)(now - *last > 1000 ? 1000 : now - *last);
                *last = now;
                return 0;
        }
        uint64_t v = 0;
        if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
                return errno == EAGAIN ? 0 : util_syserr(err, errno, "read the OOM eventfd");
        /* The kernel also signals the eventfd when the cgroup is removed. */
        _cleanup_free_ char *ctl_path = xasprintf("%s/memory.oom_control", c->dir);
        if (access(ctl_path, F_OK) < 0)
                return husk_error_set(err, ENOENT, "the cgroup %s was removed", c->dir);
        *ret_new = 1; /* one event per wakeup, as runc reports it */
        return 0;
}
