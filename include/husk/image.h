/* SPDX-License-Identifier: Apache-2.0 */
/* husk: public image API (image archives, content-addressed store, layer unpack). */
#ifndef HUSK_IMAGE_H
#define HUSK_IMAGE_H

#include "husk/husk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HUSK_STORE_DEFAULT "/var/lib/husk"

/* Options shared by every image call. Zero-initialise, then set what you need. */
typedef struct husk_image_opts {
        const char *store;        /* NULL: $HUSK_STORE, else HUSK_STORE_DEFAULT */
        const char *platform;     /* "os/arch[/variant]"; NULL: the host's (linux/amd64 on x86-64) */
        /* Limits of a load (0: the default). Staged blobs of a compressed archive count too. */
        uint64_t max_entry_size;  /* bytes per tar entry; default 4 GiB */
        uint64_t max_layer_size;  /* file bytes per layer; default 16 GiB */
        uint64_t max_entries;     /* entries per layer; default 1,000,000 */
        /* Bytes the store's filesystem keeps free: a load that would go below fails. Default
         * 1 GiB, or 5% of a filesystem smaller than 20 GiB. */
        uint64_t min_free_space;
        /* Optional, for a progress display (the library never prints): called by a load after
         * each layer with its 1-based index, the layer count, the file bytes of that layer and
         * whether this load unpacked it (false: already stored). */
        void (*progress)(void *ud, unsigned layer, unsigned layers, uint64_t bytes, bool unpacked);
        void *progress_ud;
} husk_image_opts_t;

/* One loaded image, as reported by husk_image_load. */
typedef struct husk_image_loaded {
        char *id;      /* "sha256:<hex>" of the image config */
        char **names;  /* NULL-terminated, may be empty */
        unsigned layers_unpacked; /* layers unpacked by this load (others were already stored) */
        unsigned layers_total;
        unsigned skipped_devices; /* device nodes in the layers that were not created */
} husk_image_loaded_t;

/* The parts of an image config the run path needs. Every field may be NULL. */
typedef struct husk_image_config {
        char **entrypoint;
        char **cmd;
        char **env;
        char *user;
        char *working_dir;
        char *stop_signal;
        char **labels; /* key, value, key, value, ..., NULL (image run adds them as annotations) */
} husk_image_config_t;

/* What `husk run IMAGE` needs: the layer dirs for an overlay (lowest first) and the config. */
typedef struct husk_image_resolved {
        char *id;
        char **layer_dirs; /* absolute paths, NULL-terminated, lowest layer first; a layer the
                            * image repeats is listed once, at its highest place (the lower copy
                            * is shadowed; overlayfs refuses a folder twice) */
        husk_image_config_t config;
} husk_image_resolved_t;

/* The store folder these options select (opts->store, $HUSK_STORE or the default). */
const char *husk_image_store_path(const husk_image_opts_t *o);

/* Loads an OCI layout folder, an oci-archive, a docker-save archive (folder or tar) or a plain
 * rootfs tarball. Fills an allocated array of *ret_n loaded images (free with
 * husk_image_loaded_free). */
int husk_image_load(const husk_image_opts_t *o, const char *path, husk_image_loaded_t **ret,
                    size_t *ret_n, husk_error_t *err);
void husk_image_loaded_free(husk_image_loaded_t *v, size_t n);

/* One stored image, for listings. */
typedef struct husk_image_info {
        char *id;     /* "sha256:<hex>" */
        char **names; /* NULL-terminated */
        size_t n_layers;
        uint64_t size; /* bytes of file content in its layers */
        char *loaded;  /* RFC 3339 */
} husk_image_info_t;
int husk_image_list(const husk_image_opts_t *o, husk_image_info_t **ret, size_t *ret_n,
                    husk_error_t *err);
void husk_image_info_free(husk_image_info_t *v, size_t n);

/* JSON array of the stored images: [{"id","names","layers","size","loaded"}]. */
int husk_image_list_json(const husk_image_opts_t *o, char **ret_json, husk_error_t *err);
/* JSON object for one image (NAME, full id, or an unambiguous id prefix of >= 4 hex digits):
 * the store record plus the image config ("config") and the layer dirs ("layer_dirs"). */
int husk_image_inspect_json(const husk_image_opts_t *o, const char *ref, char **ret_json,
                            husk_error_t *err);
/* Removes a name from its image (the image goes when no name is left) or, given an id, the image
 * and all its names. Layers stay until husk_image_prune. *ret_removed_id (may be NULL) gets the
 * id of the image removed, NULL when only a name was removed. */
int husk_image_rm(const husk_image_opts_t *o, const char *ref, char **ret_removed_id,
                  husk_error_t *err);
/* What `husk image rm ref` would remove and who uses it: *ret_id gets the image id (NULL when rm
 * would remove only a name of an image that has others), *ret_users the image containers of the
 * store (services, foreground runs, function workers) that run it, a NULL-terminated list. */
int husk_image_users(const husk_image_opts_t *o, const char *ref, char **ret_id, char ***ret_users,
                     husk_error_t *err);
/* Removes layers and configs no image uses and leftovers of interrupted loads. A removal that
 * fails is an error (err names it); *ret_layers_removed then still counts the layers taken out of
 * layers/ (their rest stays in tmp/ for the next clean). */
int husk_image_prune(const husk_image_opts_t *o, size_t *ret_layers_removed, husk_error_t *err);

/* Whether a ref of `husk run` names a file or folder to load rather than a stored image: it
 * starts with '/', './' or '../', or it exists (with a '/' in it: any file or folder; a bare word:
 * a regular file, so a folder named like an image does not shadow it). Every name and id that
 * `husk image ls` shows is not a path unless such a file exists. */
bool husk_image_ref_is_path(const char *ref);

/* Resolves an image ref for the run path. */
int husk_image_resolve(const husk_image_opts_t *o, const char *ref, husk_image_resolved_t **ret,
                       husk_error_t *err);
void husk_image_resolved_free(husk_image_resolved_t *r);

/* ---- running an image (`husk run IMAGE|FILE.tar [COMMAND...]`, src/libhusk/image/run.c) ---- */

/* Every field may be NULL / 0. String lists are NULL-terminated. */
typedef struct husk_image_run_opts {
        husk_image_opts_t image; /* store, platform, limits */
        const char *ref;         /* stored image (name, id, id prefix), or a path to load */
        char **command;          /* replaces the image's Cmd */
        const char *entrypoint;  /* replaces the image's Entrypoint; "" clears it */
        char **env;              /* KEY=VALUE, applied after the image's Env, in order */
        char **volumes;          /* HOST:CTR[:ro|rw] (HOST absolute) */
        char **tmpfs;            /* CTR[:OPTIONS] */
        char **cap_add, **cap_drop; /* NAME, CAP_NAME or ALL */
        const char *workdir;     /* absolute; NULL: the image's WorkingDir or / */
        const char *user;        /* USER[:GROUP], names or numbers; NULL: the image's User */
        const char *hostname;    /* NULL: the container id (first 63 characters) */
        const char *network;     /* NULL or "none" (own network namespace, lo up), "host",
                                  * "bridge" (the network "husk") or a network NAME (husk/net.h) */
        char **publish;          /* [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]: CNI portmap (bridge/NAME) */
        const char *memory;      /* bytes, or with a k/m/g/t suffix (1024-based) */
        const char *cpus;        /* decimal number of CPUs, e.g. "1.5" */
        const char *pids_limit;  /* decimal; -1 or 0: unlimited */
        bool read_only;          /* root read-only (the upper layer is not writable) */
        bool terminal;           /* process.terminal */
        const char *root;        /* the state root (--root) the container is for; NULL: default */
} husk_image_run_opts_t;

/* Result of a prepare: the bundle to hand to husk_create / husk_run. */
typedef struct husk_image_container {
        char *bundle;   /* STORE/containers/ID: config.json, upper/, work/, merged/ */
        char *image_id; /* "sha256:<hex>" */
        bool loaded;    /* the ref was an archive that this call loaded (not a cache hit) */
        bool copied;    /* overlay could not be used: the root is a private copy */
        char *notice;   /* a one-time message for the user (e.g. the overlay fallback), or NULL */
} husk_image_container_t;

/* Loads o->ref when it is a path (a cache hit when the same file was loaded before), resolves
 * the image, builds STORE/containers/ID (overlay of the image's layers with its own upper and
 * work dirs) and writes its config.json from the image config and the options. On failure
 * nothing of the container is left. */
int husk_image_container_prepare(const husk_image_run_opts_t *o, const char *id,
                                  husk_image_container_t *ret, husk_error_t *err);
void husk_image_container_done(husk_image_container_t *c);
/* Unmounts and removes what prepare made for container id at bundle: first its network (CNI
 * DEL from the folder's files, the netns), then the root and the folder. Refuses (-EPERM) a
 * bundle that is not STORE/containers/ID with prepare's marker. -ENOENT when nothing is there.
 * A failing network teardown does not keep the folder: it is removed and the teardown's error
 * is returned (what could be released was). */
int husk_image_container_remove(const char *bundle, const char *id, husk_error_t *err);
/* Who a container folder belongs to. Prepare writes STORE/containers/ID/owner before anything
 * is mounted: the process that made the folder and the state root the container is for, so a
 * cleanup can tell a folder in use from the leftover of a killed husk. */
typedef struct husk_image_container_owner {
        pid_t pid;
        bool alive;   /* that process (same start time) still runs */
        bool service; /* `run -d` (service.json): its monitor decides, not the owner */
        char *root;   /* absolute state root */
} husk_image_container_owner_t;
/* -ENOENT (err set) when bundle is not a folder with prepare's marker for id, or has no owner
 * record (made by an older husk). */
int husk_image_container_owner(const char *bundle, const char *id,
                               husk_image_container_owner_t *ret, husk_error_t *err);
void husk_image_container_owner_done(husk_image_container_owner_t *o);
/* Removes STORE/containers/.prep-PID-* folders (a prepare killed before its folder was
 * complete) whose maker is dead; with id, only those made for id. */
int husk_image_prep_prune(const char *store, const char *id, size_t *ret_removed,
                          husk_error_t *err);
/* The annotation that marks a container made by prepare (its value is the bundle path). */
#define HUSK_IMAGE_CONTAINER_ANNOTATION "run.husk.image.container"

#ifdef __cplusplus
}
#endif
#endif
