/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY (state/cli owner): link-time stand-in for config_default_spec (config branch). It sits
 * after the config module in libhusk.a, so it is never pulled once the real one is merged; delete
 * this file and its Makefile.am line then. */
#include "config/config.h"
#include "util/util.h"

char *config_default_spec(bool rootless)
{
        return NULL;
}
