/* SPDX-License-Identifier: Apache-2.0 */
/* Capabilities: the five OCI sets (config_caps bit masks) applied with libcap on the container
 * side, after the uid/gid switch. The plan part (masks -> cap_t, which bounding caps to drop) is
 * pure and unit tested. */
#ifndef HUSK_CAPS_H
#define HUSK_CAPS_H

#include "config/oci_config.h"

#include <sys/capability.h>

/* Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap, else
 * libcap's cap_max_bits() - 1). */
int caps_last_cap(void);
/* All capabilities 0..last_cap as a mask. */
uint64_t caps_all_mask(int last_cap);
/* Capabilities to drop from the bounding set: known to the kernel but not kept. */
uint64_t caps_bounding_drop_mask(uint64_t keep, int last_cap);
/* A cap_t with effective, permitted and inheritable exactly as configured (absent set = empty).
 * Returns NULL with err on failure. */
cap_t caps_from_config(const config_caps *c, int last_cap, husk_error_t *err);

/* The ambient capabilities the kernel can raise: those also in permitted and inheritable (an
 * absent set is empty). runc and crun skip the others (runc spec's default lists ambient
 * CAP_KILL... with no inheritable set): *ret_skipped gets them, for a warning. */
uint64_t caps_ambient_effective(const config_caps *c, uint64_t *ret_skipped);
/* "CAP_KILL, CAP_NET_RAW" for the set bits of mask, allocated ("" when none). */
char *caps_mask_names(uint64_t mask);

/* Container side, before the uid switch: drop every bounding capability not in keep. */
int caps_drop_bounding(uint64_t keep, int last_cap, husk_error_t *err);
/* Container side, after setresuid: set e/p/i exactly, then the ambient set (cleared first): the
 * raisable part only (caps_ambient_effective). */
int caps_apply(const config_caps *c, int last_cap, husk_error_t *err);

#endif
