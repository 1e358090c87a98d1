/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY (state/cli owner): link-time stand-ins for functions that other branches implement
 * (process: husk_create/husk_start/husk_run). This file sits after
 * those modules in libhusk.a, so once their real definitions are merged these are never pulled;
 * delete this file (and its Makefile.am line) as soon as they are. */
#include "config/config.h"
#include "util/util.h"

int husk_create(const husk_global_t *g, const husk_create_opts_t *o, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "create: not implemented yet");
}

int husk_start(const husk_global_t *g, const char *id, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "start: not implemented yet");
}

int husk_run(const husk_global_t *g, const husk_create_opts_t *o, int *ret_status, husk_error_t *err)
{
        return husk_error_set(err, ENOSYS, "run: not implemented yet");
}
