/* SPDX-License-Identifier: Apache-2.0 */
/* delete: the container's processes, cgroup, poststop hooks, state folder, and what the layers
 * above the state made for it (the root and network of `husk run IMAGE`). It sits above state/
 * and image/ and calls both: the state's records say what teardown a container needs, this file
 * does it. It also undoes a create or an image run that was killed before its state was saved,
 * from the teardown record (state.h) and the image folder's owner record (husk/image.h).
 * Host side only. */
#include "cgroup/cgroup.h"
#include "config/oci_config.h"
#include "husk/image.h"
#include "process/hooks.h"
#include "state/state.h"
#include "util/util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define DELETE_WAIT_MS 10000

static const char *root_of(const husk_global_t *g)
{
        return g && g->root && g->root[0] ? g->root : state_default_root();
}

static void warn(const husk_global_t *g, const husk_error_t *e)
{
        if (g && g->warn)
                g->warn(e->msg);
}

static void warn_hook(void *g, const husk_error_t *e)
{
        warn(g, e);
}

static int open_cgroup(const husk_state *s, cgroup_handle **ret, husk_error_t *err)
{
        *ret = NULL;
        if (!s->cgroup || !s->cgroup[0])
                return 0;
        return cgroup_deserialize(s->cgroup, ret, err);
}

/* SIGKILL the container's processes and wait for init to be gone. */
static int stop_container(const husk_state *s, husk_status_t st, husk_error_t *err)
{
        cgroup_handle *h = NULL;
        int r = open_cgroup(s, &h, err);
        if (r < 0)
                return r;
        if (h && !s->new_pidns)
                (void)cgroup_kill_all(h, SIGKILL, err); /* init is signalled below anyway */
        r = state_signal_pid(s->pid, s->pid_start_time, SIGKILL);
        /* A frozen process does not act on SIGKILL until thawed. */
        if (h && st == HUSK_STATUS_PAUSED)
                (void)cgroup_freeze(h, false, err); /* failure shows up as the timeout below */
        cgroup_handle_free(h);
        if (r < 0 && r != -ESRCH)
                return util_syserr(err, r, "kill container %s", s->id);
        r = state_wait_gone(s->pid, s->pid_start_time, DELETE_WAIT_MS);
        if (r < 0)
                return util_syserr(err, r, "wait for container %s (pid %d) to exit", s->id,
                                   (int)s->pid);
        husk_error_clear(err);
        return 0;
}

/* poststop hooks: failures are warnings only (runtime-spec: "the runtime MUST log a warning"). */
static void run_poststop(const husk_global_t *g, const husk_state *s)
{
        husk_error_t e = { 0 };
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        husk_config *cfg = NULL;
        if (!s->has_poststop || !s->config_path)
                return;
        int r = read_file_at(AT_FDCWD, s->config_path, 16 * 1024 * 1024, &text, &len);
        if (r < 0) {
                util_syserr(&e, r, "poststop hooks: read %s", s->config_path);
                warn(g, &e);
                return;
        }
        if (config_parse(text, len, s->config_path, &cfg, &e) < 0) {
                husk_error_prefix(&e, "poststop hooks");
                warn(g, &e);
                return;
        }
        _cleanup_free_ char *json = state_to_json(s, HUSK_STATUS_STOPPED, false);
        /* runtime-spec: a failing poststop hook is a warning, and the remaining hooks run. */
        (void)hooks_run_each(&cfg->hooks, HOOK_POSTSTOP, json, warn_hook, (void *)g);
        config_free(cfg);
}

/* A container made by `husk run IMAGE`: its overlay root, network and folder go with it. The
 * folder is checked against its marker (husk_image_container_remove), since the path comes from
 * a config.json a bundle author could write. */
static void remove_image_root(const husk_global_t *g, const char *id, const char *bundle)
{
        husk_error_t e = { 0 };
        if (bundle && husk_image_container_remove(bundle, id, &e) < 0 && e.code != ENOENT)
                warn(g, &e);
}

static const char *image_bundle(const husk_state *s)
{
        for (size_t i = 0; i < s->n_annotations; i++) {
                const config_kv *a = &s->annotations[i];
                if (strcmp(a->key, HUSK_IMAGE_CONTAINER_ANNOTATION) == 0 && a->value && s->bundle &&
                    strcmp(a->value, s->bundle) == 0)
                        return s->bundle;
        }
        return NULL;
}

static void destroy_cgroup(const husk_global_t *g, const char *id, const char *serialized)
{
        cgroup_handle *h = NULL;
        husk_error_t e = { 0 };
        if (serialized && serialized[0] && cgroup_deserialize(serialized, &h, &e) == 0) {
                if (cgroup_destroy(h, &e) < 0) {
                        husk_error_prefix(&e, "delete %s: remove cgroup", id);
                        warn(g, &e);
                }
        } else if (e.msg[0]) {
                warn(g, &e);
        }
        cgroup_handle_free(h);
}

static int remove_container(const husk_global_t *g, const char *id, const husk_state *s,
                            bool keep_bundle, husk_error_t *err)
{
        destroy_cgroup(g, id, s->cgroup);
        run_poststop(g, s);
        if (!keep_bundle)
                remove_image_root(g, id, image_bundle(s));
        return state_dir_remove(root_of(g), id, err);
}

/* A state folder without a readable state.json: a create that died before saving it (we hold
 * the lock, so no create is running). Its teardown record says what it had made: the cgroup
 * (processes in it are killed: the container's init blocks until `start`) and the image root. */
static int remove_unsaved(const husk_global_t *g, const char *id, int dirfd, bool keep_bundle,
                          husk_error_t *err)
{
        state_record rec = { 0 };
        husk_error_t e = { 0 };
        int r = state_record_load(dirfd, &rec, &e);
        if (r == 0) {
                destroy_cgroup(g, id, rec.cgroup);
                if (!keep_bundle)
                        remove_image_root(g, id, rec.image_container);
        } else {
                if (r != -ENOENT)
                        warn(g, &e);
                /* No record (an older husk): the cgroup is most likely at the default path. */
                husk_error_clear(&e);
                if (cgroup_remove_default_if_empty(id, &e) < 0)
                        warn(g, &e);
        }
        state_record_done(&rec);
        return state_dir_remove(root_of(g), id, err);
}

static bool same_root(const char *a, const char *b)
{
        _cleanup_free_ char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
        return strcmp(ra ? ra : a, rb ? rb : b) == 0;
}

/* `delete --force ID` with no state folder: a `husk run IMAGE` killed before its create left
 * only STORE/containers/ID (default store). It goes when it was made for this root, its maker
 * is dead and it is not a `run -d` service (rm -f and system prune handle those). */
static int remove_orphan_folder(const husk_global_t *g, const char *id, husk_error_t *err)
{
        husk_image_opts_t io = { 0 };
        const char *store = husk_image_store_path(&io);
        _cleanup_free_ char *bundle = xasprintf("%s/containers/%s", store, id);
        husk_image_container_owner_t o = { 0 };
        husk_error_t e = { 0 };
        /* A prepare killed before its folder was complete (.prep-PID-*, nothing mounted). */
        if (husk_image_prep_prune(store, id, NULL, &e) < 0)
                warn(g, &e);
        if (husk_image_container_owner(bundle, id, &o, &e) < 0)
                return 0; /* nothing of ours there */
        bool mine = !o.alive && !o.service && same_root(o.root, root_of(g));
        husk_image_container_owner_done(&o);
        if (!mine)
                return 0;
        int r = husk_image_container_remove(bundle, id, err);
        return r == -ENOENT ? (husk_error_clear(err), 0) : r;
}

static int delete_container(const husk_global_t *g, const char *id, bool force, bool keep_bundle,
                            husk_error_t *err)
{
        _cleanup_close_ int fd = -1;
        int r = husk_id_validate(id, err);
        if (r < 0)
                return r;
        r = state_dir_open(root_of(g), id, &fd, err);
        if (r == -ENOENT && force) {
                husk_error_clear(err);
                return keep_bundle ? 0 : remove_orphan_folder(g, id, err);
        }
        if (r < 0)
                return r;
        husk_state *s = NULL;
        husk_status_t st = HUSK_STATUS_STOPPED;
        r = state_load(fd, &s, err);
        if (r < 0 && r != -ENOENT && !force)
                return husk_error_prefix(err, "delete %s", id);
        if (r < 0) {
                /* Not saved yet (killed create), or unreadable: the teardown record still says
                 * what to undo. A create killed before it wrote its record leaves the image
                 * folder to its owner record. */
                husk_error_clear(err);
                r = remove_unsaved(g, id, fd, keep_bundle, err);
                if (r == 0 && !keep_bundle)
                        r = remove_orphan_folder(g, id, err);
                return r;
        }
        r = state_status(fd, s, &st, err);
        if (r >= 0 && !force && (st == HUSK_STATUS_RUNNING || st == HUSK_STATUS_PAUSED))
                r = husk_error_set(err, EBUSY, "cannot delete container %s that is not stopped: %s",
                                   id, husk_status_name(st));
        if (r >= 0 && st != HUSK_STATUS_STOPPED && st != HUSK_STATUS_CREATING)
                r = stop_container(s, st, err);
        if (r >= 0)
                r = remove_container(g, id, s, keep_bundle, err);
        state_free(s);
        return r;
}

int husk_delete(const husk_global_t *g, const char *id, bool force, husk_error_t *err)
{
        return delete_container(g, id, force, false, err);
}

int husk_delete_keep_bundle(const husk_global_t *g, const char *id, bool force, husk_error_t *err)
{
        return delete_container(g, id, force, true, err);
}
