/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the store: layout, locks and image records.
 *
 * STORE/
 *   .gc.lock            shared by loads, exclusive for prune (prune never sees a half-done load)
 *   .records.lock       exclusive while image records change
 *   .tmp.lock           held while a load creates and locks its work folder, and while leftovers go
 *   layers/HEX/diff     unpacked layer (HEX = diff_id), layers/HEX/size; renamed into place only
 *                       when complete and verified, never changed afterwards
 *   locks/HEX           flock per layer: one unpack of a layer at a time
 *   configs/HEX.json    image configs (HEX = image id)
 *   images/HEX.json     image records: names, layers, size
 *   tmp/NAME/           work folders of running loads, each flocked by its load; an unlocked one
 *                       is a leftover of a killed load and is removed */
#ifndef HUSK_STORE_H
#define HUSK_STORE_H

#include "image/image.h"

typedef struct store {
        char *path; /* absolute */
        int fd;
        int gc_lock;
} store_t;

typedef struct image_record {
        char hex[DIGEST_HEX_LEN + 1];
        char **names;
        char **layers; /* diff_id hex, lowest first */
        uint64_t size;
        char *loaded;
} image_record_t;

int store_open(const husk_image_opts_t *o, bool exclusive, store_t *s, husk_error_t *err);
void store_close(store_t *s);
void image_record_done(image_record_t *r);
/* All records (sorted by load time). */
int store_records(store_t *s, image_record_t **ret, size_t *ret_n, husk_error_t *err);
void image_records_free(image_record_t *v, size_t n);
/* The names ref may stand for, most exact first: ref, ref:latest (no tag given), and for a name
 * without a registry domain docker.io/library/ (or docker.io/) and localhost/ in front. */
char **store_name_candidates(const char *ref);
/* The stored name (in its shortest usable form) nearest to ref when ref looks like a typo of
 * it, else NULL. */
char *store_nearest_name(const image_record_t *v, size_t n, const char *ref);
/* Finds one record by name (see store_name_candidates), id or id prefix; *ret_by_name tells
 * which. */
int store_find(image_record_t *v, size_t n, const char *ref, size_t *ret_idx, bool *ret_by_name,
               husk_error_t *err);
int store_record_write(store_t *s, const image_record_t *r, husk_error_t *err);
/* Removes leftovers of killed loads (unlocked tmp folders). */
void store_clean_tmp(store_t *s);
/* Held while a work folder is created and flocked, and while leftovers are removed. */
int store_lock_tmp(store_t *s);
int store_lock_records(store_t *s, husk_error_t *err);

#endif
