/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of image run: the pure planning helpers (runplan.c, unit tested), the root
 * builders (runroot.c: overlay or private copy) and the orchestrator (run.c). */
#ifndef HUSK_IMAGE_RUN_H
#define HUSK_IMAGE_RUN_H

#include "husk/image.h"
#include "util/util.h"

#include <sys/types.h>

/* ---- pure planning (runplan.c) ---- */

/* "512m", "1g", "100k", "4096", "1.5g" -> bytes (1024-based suffixes b k m g t, any case). */
int run_parse_size(const char *s, int64_t *ret);
/* "1.5" -> quota 150000 for period 100000; at most 3 decimals; > 0. */
int run_parse_cpus(const char *s, int64_t *ret_quota, uint64_t *ret_period);

typedef struct run_volume {
        char *host; /* absolute */
        char *ctr;  /* absolute */
        bool ro;
} run_volume_t;
/* HOST:CTR[:ro|rw] (options may also be "z", "Z", "rbind", ignored). *ret_reason on -EINVAL. */
int run_parse_volume(const char *spec, run_volume_t *ret, const char **ret_reason);
void run_volume_done(run_volume_t *v);

/* CTR[:OPT,OPT...] -> destination and options (allocated, NULL-terminated). */
int run_parse_tmpfs(const char *spec, char **ret_dest, char ***ret_opts, const char **ret_reason);

/* Splits USER[:GROUP]. Empty parts are refused. */
int run_split_user(const char *spec, char **ret_user, char **ret_group);

/* Looks up a user in passwd text (name, or a number that is then looked up for its gid).
 * A number absent from passwd is accepted with gid = *ret_gid untouched and *ret_found false.
 * -ENOENT for an unknown name, -EINVAL for a malformed number. */
int run_passwd_lookup(const char *text, const char *user, uid_t *ret_uid, gid_t *ret_gid,
                      char **ret_name, bool *ret_found);
/* Looks up a group name (or number) in group text. -ENOENT for an unknown name. */
int run_group_lookup(const char *text, const char *group, gid_t *ret_gid);
/* Gids of the groups in group text whose member list names user (sorted as found, no
 * duplicates, excluding primary). Returns the count; *ret allocated (may be NULL when 0). */
size_t run_group_members(const char *text, const char *user, gid_t primary, gid_t **ret);

/* Environment merge: base then each add (KEY=VALUE replaces KEY). A PATH is added when none
 * is set. Returns a new vector. */
char **run_env_merge(char *const *base, char *const *add);

/* Capabilities: start from defaults, drop cap_drop (ALL drops all), add cap_add (ALL adds all
 * known). Names "NET_ADMIN", "net_admin" or "CAP_NET_ADMIN". Returns a new vector of
 * "CAP_..." names or NULL and *ret_bad (the offending name) when unknown. */
char **run_caps(char *const *cap_add, char *const *cap_drop, const char **ret_bad);

/* The process args: entrypoint (override or image) + command (override or image Cmd). An
 * entrypoint override drops the image's Cmd, as docker does. NULL when empty. */
char **run_args(const husk_image_config_t *img, const char *entrypoint, char *const *command);

/* ---- root builders (runroot.c) ---- */
/* Mounts an overlay of layer_dirs (lowest first) with upper/work onto the dir target_fd.
 * New mount API with one "lowerdir+" per layer where the kernel has it (6.8+), else mount(2)
 * with paths relative to the common layers folder. */
int run_mount_overlay(char *const *layer_dirs, int upper_fd, int work_fd, int target_fd,
                      husk_error_t *err);
/* Copies every layer (lowest first) into target_fd, applying whiteouts and opaque dirs. */
int run_copy_layers(char *const *layer_dirs, int target_fd, husk_error_t *err);

#endif
