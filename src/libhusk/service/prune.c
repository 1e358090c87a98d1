/* SPDX-License-Identifier: Apache-2.0 */
/* `husk system prune` and `rm -f` of a folder that no service owns: the leftovers of dead
 * containers, found from both sides. A state folder under the root that no command holds and
 * whose container is stopped (or was never saved: a killed create); a container folder in the
 * store whose owner (the husk that made it) is dead and whose container does not run (a killed
 * `husk run IMAGE`, or a `run -d` whose monitor is gone); unfinished .prep- folders; load work
 * folders and unused layers. Each goes through husk_delete, husk_service_rm or
 * husk_image_container_remove, so its cgroup, mounts, network (CNI DEL) and folders go with it.
 * Host side. */
#include "husk/image.h"
#include "service/service.h"
#include "state/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

typedef struct prune {
        const husk_global_t *g;
        const char *store; /* as given (NULL: default) */
        husk_prune_report_fn report;
        void *ud;
        husk_error_t first; /* the first failure; pruning goes on */
        size_t removed;
} prune_t;

static void say(prune_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(prune_t *p, const char *fmt, ...)
{
        char buf[HUSK_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (p->report)
                p->report(p->ud, buf);
}

static void failed(prune_t *p, const husk_error_t *e)
{
        if (!p->first.code)
                p->first = *e;
}

static const char *root_of(const husk_global_t *g)
{
        return g && g->root && g->root[0] ? g->root : state_default_root();
}

/* The container's state in root: 1 when it runs (running, paused) or a command holds its
 * folder (busy), 0 when it is dead: stopped, created but never started (podman's prune takes
 * those too; a `husk run` killed before the start leaves one) or never saved; -1 when there is
 * no state folder. */
static int state_use(const char *root, const char *id, bool *ret_busy, char **ret_cgroup,
                     char **ret_image)
{
        _cleanup_close_ int fd = -1;
        husk_error_t e = { 0 };
        *ret_busy = false;
        if (state_dir_open_nolock(root, id, &fd, &e) < 0)
                return -1;
        if (state_dir_busy(root, id)) {
                *ret_busy = true;
                return 1;
        }
        husk_state *s = NULL;
        husk_status_t st = HUSK_STATUS_STOPPED;
        int live = 0;
        if (state_load(fd, &s, &e) == 0) {
                live = state_status(fd, s, &st, &e) == 0 &&
                       (st == HUSK_STATUS_RUNNING || st == HUSK_STATUS_PAUSED);
                if (ret_cgroup && s->cgroup)
                        *ret_cgroup = xstrdup(s->cgroup);
                for (size_t i = 0; ret_image && i < s->n_annotations; i++)
                        if (strcmp(s->annotations[i].key, HUSK_IMAGE_CONTAINER_ANNOTATION) == 0 &&
                            s->annotations[i].value)
                                *ret_image = xstrdup(s->annotations[i].value);
                state_free(s);
        } else {
                state_record rec = { 0 };
                if (state_record_load(fd, &rec, &e) == 0) {
                        if (ret_cgroup)
                                *ret_cgroup = TAKE_PTR(rec.cgroup);
                        if (ret_image)
                                *ret_image = TAKE_PTR(rec.image_container);
                }
                state_record_done(&rec);
        }
        return live;
}

/* "cgroup /husk/ID" from the cgroup_serialize() form ("v1;...;/husk/ID"). */
static const char *cgroup_path(const char *serialized)
{
        const char *p = serialized ? strrchr(serialized, ';') : NULL;
        return p ? p + 1 : NULL;
}

/* The image folder of a state belongs to a live `run -d` service: its monitor decides. */
static bool service_alive(const char *bundle, const char *id)
{
        husk_image_container_owner_t o = { 0 };
        husk_error_t e = { 0 };
        if (!bundle || husk_image_container_owner(bundle, id, &o, &e) < 0)
                return false;
        bool svc = o.service;
        husk_image_container_owner_done(&o);
        if (!svc)
                return false;
        _cleanup_close_ int fd = open(bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 && svc_monitor_alive(fd, NULL, NULL);
}

static void prune_state_dirs(prune_t *p)
{
        const char *root = root_of(p->g);
        _cleanup_closedir_ DIR *d = opendir(root);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                const char *id = de->d_name;
                if (id[0] == '.' || husk_id_validate(id, NULL) < 0)
                        continue;
                bool busy = false;
                _cleanup_free_ char *cg = NULL, *img = NULL;
                int use = state_use(root, id, &busy, &cg, &img);
                if (use != 0 || service_alive(img, id))
                        continue;
                husk_error_t e = { 0 };
                struct stat st;
                bool had_img = img && stat(img, &st) == 0;
                if (husk_delete(p->g, id, true, &e) < 0) {
                        failed(p, &e);
                        continue;
                }
                p->removed++;
                say(p, "container %s: state %s/%s%s%s%s%s", id, root, id, cg ? ", cgroup " : "",
                    cg ? cgroup_path(cg) : "", had_img ? ", root, network and folder " : "",
                    had_img ? img : "");
        }
}

static void prune_folder(prune_t *p, const char *store, const char *id)
{
        _cleanup_free_ char *bundle = xasprintf("%s/containers/%s", store, id);
        husk_image_container_owner_t o = { 0 };
        husk_error_t e = { 0 };
        if (husk_image_container_owner(bundle, id, &o, &e) < 0)
                return; /* not made by prepare, or by an older husk: not ours to judge */
        husk_global_t g = p->g ? *p->g : (husk_global_t){ 0 };
        g.root = o.root;
        bool busy = false;
        _cleanup_free_ char *cg = NULL;
        int use = o.alive ? 1 : state_use(o.root, id, &busy, &cg, NULL);
        if (use <= 0 && o.service) {
                _cleanup_close_ int fd = open(bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && svc_monitor_alive(fd, NULL, NULL))
                        use = 1;
        }
        if (use > 0) {
                husk_image_container_owner_done(&o);
                return;
        }
        int r = 0;
        if (o.service) {
                r = husk_service_rm(&g, p->store, id, true, &e);
        } else {
                if (use == 0)
                        r = husk_delete(&g, id, true, &e);
                if (r == 0 && (r = husk_image_container_remove(bundle, id, &e)) == -ENOENT) {
                        husk_error_clear(&e); /* husk_delete took it with the state */
                        r = 0;
                }
        }
        if (r < 0) {
                failed(p, &e);
        } else {
                p->removed++;
                say(p, "container %s: root, network and folder %s%s%s%s%s", id, bundle,
                    use == 0 ? ", state " : "", use == 0 ? o.root : "", use == 0 ? "/" : "",
                    use == 0 ? id : "");
                if (cg)
                        say(p, "container %s: cgroup %s", id, cgroup_path(cg));
        }
        husk_image_container_owner_done(&o);
}

static void prune_store(prune_t *p)
{
        _cleanup_free_ char *store = svc_store_path(p->store);
        _cleanup_free_ char *cdir = xasprintf("%s/containers", store);
        _cleanup_closedir_ DIR *d = opendir(cdir);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && husk_id_validate(de->d_name, NULL) == 0)
                        prune_folder(p, store, de->d_name);
        size_t n = 0;
        husk_error_t e = { 0 };
        if (husk_image_prep_prune(store, NULL, &n, &e) < 0)
                failed(p, &e);
        if (n) {
                p->removed += n;
                say(p, "%zu unfinished container folders in %s", n, cdir);
        }
}

static size_t count_tmp(const char *store)
{
        _cleanup_free_ char *tdir = xasprintf("%s/tmp", store);
        _cleanup_closedir_ DIR *d = opendir(tdir);
        struct dirent *de;
        size_t n = 0;
        while (d && (de = readdir(d)))
                n += de->d_name[0] != '.';
        return n;
}

int husk_system_prune(const husk_global_t *g, const char *store, husk_prune_report_fn report,
                      void *ud, size_t *ret_removed, husk_error_t *err)
{
        prune_t p = { .g = g, .store = store, .report = report, .ud = ud };
        prune_state_dirs(&p);
        prune_store(&p);
        /* Then what no container pins any more: load work folders of killed loads, layers. */
        _cleanup_free_ char *sp = svc_store_path(store);
        size_t tmp_before = count_tmp(sp), layers = 0;
        husk_image_opts_t io = { .store = store };
        husk_error_t e = { 0 };
        struct stat st;
        if (stat(sp, &st) == 0 && husk_image_prune(&io, &layers, &e) < 0)
                failed(&p, &e);
        size_t tmp_after = count_tmp(sp);
        if (tmp_before > tmp_after) {
                say(&p, "%zu work folders of interrupted loads or prunes in %s/tmp",
                    tmp_before - tmp_after, sp);
                p.removed += tmp_before - tmp_after;
        }
        if (layers) {
                say(&p, "%zu unused layers", layers);
                p.removed += layers;
        }
        if (ret_removed)
                *ret_removed = p.removed;
        if (p.first.code) {
                *err = p.first;
                return -p.first.code;
        }
        return 0;
}

int svc_rm_folder(const husk_global_t *g, const char *store, const char *name, bool force,
                  husk_error_t *err)
{
        _cleanup_free_ char *sp = svc_store_path(store);
        _cleanup_free_ char *bundle = xasprintf("%s/containers/%s", sp, name);
        husk_image_container_owner_t o = { 0 };
        husk_error_t e = { 0 };
        if (husk_id_validate(name, NULL) < 0)
                return 1;
        /* A prepare killed before its folder was complete (.prep-PID-*). */
        size_t n = 0;
        if (husk_image_prep_prune(sp, name, &n, err) < 0)
                return -err->code;
        if (husk_image_container_owner(bundle, name, &o, &e) < 0 || o.service) {
                husk_image_container_owner_done(&o);
                return n ? 0 : 1;
        }
        husk_global_t gg = g ? *g : (husk_global_t){ 0 };
        gg.root = o.root;
        bool busy = false;
        int use = state_use(o.root, name, &busy, NULL, NULL);
        int r = 0;
        if ((o.alive || use > 0) && !force)
                r = husk_error_set(err, EBUSY, "cannot remove container %s: it is in use by "
                                   "husk run (pid %d; rm -f stops it)", name, (int)o.pid);
        /* -f: the container goes (delete --force kills it); a foreground husk run that waited
         * for it then finds nothing left to remove. */
        if (r == 0 && use >= 0)
                r = husk_delete(&gg, name, true, err);
        if (r == 0 && (r = husk_image_container_remove(bundle, name, err)) == -ENOENT) {
                husk_error_clear(err);
                r = 0;
        }
        husk_image_container_owner_done(&o);
        return r;
}
