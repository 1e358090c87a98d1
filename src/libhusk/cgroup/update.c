/* SPDX-License-Identifier: Apache-2.0 */
/* husk update / pause / resume: find a container's cgroup again from its saved state and change
 * it. Host side only. */
#include "cgroup/cgroup_internal.h"
#include "state/state.h"
#include "util/util.h"

static void state_freep(husk_state **s)
{
        state_free(*s);
}

static void handle_freep(cgroup_handle **h)
{
        cgroup_handle_free(*h);
}

static void resources_freep(config_resources **r)
{
        config_resources_free(*r);
}

/* Open the container (locked for the duration), check its status, load its cgroup. */
static int open_container(const husk_global_t *g, const char *id, int *ret_dirfd,
                          husk_status_t *ret_status, cgroup_handle **ret, husk_error_t *err)
{
        const char *root = g && g->root ? g->root : state_default_root();
        _cleanup_close_ int dirfd = -1;
        int r = state_dir_open(root, id, &dirfd, err);
        if (r < 0)
                return r;
        _cleanup_(state_freep) husk_state *s = NULL;
        r = state_load(dirfd, &s, err);
        if (r < 0)
                return r;
        husk_status_t st;
        r = state_status(dirfd, s, &st, err);
        if (r < 0)
                return r;
        if (st == HUSK_STATUS_STOPPED)
                return husk_error_set(err, EINVAL, "container not running");
        if (!s->cgroup || !*s->cgroup)
                return husk_error_set(err, ENOENT, "container %s has no cgroup", id);
        r = cgroup_deserialize(s->cgroup, ret, err);
        if (r < 0)
                return r;
        *ret_dirfd = TAKE_FD(dirfd);
        *ret_status = st;
        return 0;
}

int husk_update(const husk_global_t *g, const char *id, const char *resources_json, size_t len,
                husk_error_t *err)
{
        _cleanup_(resources_freep) config_resources *res = NULL;
        int r = config_parse_resources(resources_json, len, "resources", &res, err);
        if (r < 0)
                return r;
        _cleanup_close_ int dirfd = -1;
        _cleanup_(handle_freep) cgroup_handle *h = NULL;
        husk_status_t st;
        r = open_container(g, id, &dirfd, &st, &h, err);
        if (r < 0)
                return r;
        r = cgroup_apply(h, res, err);
        if (r < 0)
                return husk_error_prefix(err, "update %s", id);
        return 0;
}

static int set_paused(const husk_global_t *g, const char *id, bool pause, husk_error_t *err)
{
        _cleanup_close_ int dirfd = -1;
        _cleanup_(handle_freep) cgroup_handle *h = NULL;
        husk_status_t st;
        int r = open_container(g, id, &dirfd, &st, &h, err);
        if (r < 0)
                return r;
        if (pause && st != HUSK_STATUS_RUNNING && st != HUSK_STATUS_CREATED)
                return husk_error_set(err, EINVAL, "container not running");
        if (!pause && st != HUSK_STATUS_PAUSED)
                return husk_error_set(err, EINVAL, "container not paused");
        r = cgroup_freeze(h, pause, err);
        if (r < 0)
                return husk_error_prefix(err, "%s %s", pause ? "pause" : "resume", id);
        return 0;
}

int husk_pause(const husk_global_t *g, const char *id, husk_error_t *err)
{
        return set_paused(g, id, true, err);
}

int husk_resume(const husk_global_t *g, const char *id, husk_error_t *err)
{
        return set_paused(g, id, false, err);
}
