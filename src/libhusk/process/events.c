/* SPDX-License-Identifier: Apache-2.0 */
/* husk_stats_json: one `events --stats` object for a container, read from its cgroup. Host side. */
#include "cgroup/cgroup.h"
#include "state/state.h"
#include "util/json.h"
#include "util/util.h"

int husk_stats_json(const husk_global_t *g, const char *id, char **ret_json, husk_error_t *err)
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
