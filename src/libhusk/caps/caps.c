/* SPDX-License-Identifier: Apache-2.0 */
/* Capabilities with libcap (see caps.h). */
#include "caps/caps.h"
#include "util/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>

static void cap_freep(cap_t *c)
{
        if (*c)
                cap_free(*c);
        *c = NULL;
}
#define _cleanup_cap_ _cleanup_(cap_freep)

/* "CAP_SYS_ADMIN" style name of capability i into buf. */
static const char *cap_name(int i, char *buf, size_t len)
{
        char *n = cap_to_name(i); /* libcap memory: released with cap_free */
        if (n) {
                /* libcap names are "cap_kill" (with the prefix): upper-case them, never add a
                 * second "CAP_" */
                snprintf(buf, len, "%s%s", strncmp(n, "cap_", 4) == 0 ? "" : "CAP_", n);
                for (char *p = buf; *p; p++)
                        if (*p >= 'a' && *p <= 'z')
                                *p = (char)(*p - 'a' + 'A');
                cap_free(n);
        } else {
                snprintf(buf, len, "capability %d", i);
        }
        return buf;
}

int caps_last_cap(void)
{
        static int cached = -1;
        if (cached >= 0)
                return cached;
        _cleanup_free_ char *s = NULL;
        int v = -1;
        if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &s, NULL) == 0) {
                s[strcspn(s, "\n")] = '\0';
                if (parse_int(s, &v) < 0 || v < 0 || v > 63)
                        v = -1;
        }
        if (v < 0)
                v = (int)cap_max_bits() - 1;
        if (v > 63)
                v = 63;
        cached = v;
        return v;
}

uint64_t caps_all_mask(int last_cap)
{
        if (last_cap >= 63)
                return UINT64_MAX;
        if (last_cap < 0)
                return 0;
        return (UINT64_C(1) << (last_cap + 1)) - 1;
}

uint64_t caps_bounding_drop_mask(uint64_t keep, int last_cap)
{
        return caps_all_mask(last_cap) & ~keep;
}

/* Set flag for every capability in mask (only the ones the kernel knows). */
static int set_flag_mask(cap_t c, cap_flag_t flag, uint64_t mask, int last_cap)
{
        cap_value_t vals[64];
        int n = 0;
        for (int i = 0; i <= last_cap && i < 64; i++)
                if (mask & (UINT64_C(1) << i))
                        vals[n++] = i;
        if (n == 0)
                return 0;
        return cap_set_flag(c, flag, n, vals, CAP_SET);
}

cap_t caps_from_config(const config_caps *c, int last_cap, husk_error_t *err)
{
        _cleanup_cap_ cap_t caps = cap_init(); /* cap_init: every set empty */
        if (!caps) {
                util_syserr(err, errno, "cap_init");
                return NULL;
        }
        /* CVE-2022-29162: inheritable is exactly the configured set, never more (empty when
         * absent), so file capabilities of the workload cannot raise privileges. */
        if (set_flag_mask(caps, CAP_EFFECTIVE, c->has_effective ? c->effective : 0, last_cap) < 0 ||
            set_flag_mask(caps, CAP_PERMITTED, c->has_permitted ? c->permitted : 0, last_cap) < 0 ||
            set_flag_mask(caps, CAP_INHERITABLE, c->has_inheritable ? c->inheritable : 0,
                          last_cap) < 0) {
                util_syserr(err, errno, "cap_set_flag");
                return NULL;
        }
        return TAKE_PTR(caps);
}

uint64_t caps_ambient_effective(const config_caps *c, uint64_t *ret_skipped)
{
        uint64_t amb = c->has_ambient ? c->ambient : 0;
        uint64_t ok = (c->has_permitted ? c->permitted : 0) &
                      (c->has_inheritable ? c->inheritable : 0);
        if (ret_skipped)
                *ret_skipped = amb & ~ok;
        return amb & ok;
}

char *caps_mask_names(uint64_t mask)
{
        char *s = xstrdup("");
        for (int i = 0; i < 64; i++) {
                if (!(mask & (UINT64_C(1) << i)))
                        continue;
                char name[64];
                char *t = xasprintf("%s%s%s", s, s[0] ? ", " : "", cap_name(i, name, sizeof(name)));
                free(s);
                s = t;
        }
        return s;
}

int caps_drop_bounding(uint64_t keep, int last_cap, husk_error_t *err)
{
        uint64_t drop = caps_bounding_drop_mask(keep, last_cap);
        for (int i = 0; i <= last_cap && i < 64; i++) {
                if (!(drop & (UINT64_C(1) << i)))
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long)i, 0, 0, 0) < 0) {
                        /* A kernel that does not know this cap: nothing to drop. */
                        if (errno == EINVAL)
                                continue;
                        int e = errno;
                        char name[64];
                        return util_syserr(err, e, "drop %s from the bounding set",
                                           cap_name(i, name, sizeof(name)));
                }
        }
        return 0;
}

int caps_apply(const config_caps *c, int last_cap, husk_error_t *err)
{
        _cleanup_cap_ cap_t caps = caps_from_config(c, last_cap, err);
        if (!caps)
                return -err->code;
        if (cap_set_proc(caps) < 0)
                return util_syserr(err, errno,
                                   "set capabilities (effective must be a subset of permitted)");
        if (cap_reset_ambient() < 0 && errno != EINVAL)
                return util_syserr(err, errno, "clear the ambient capability set");
        /* An ambient capability outside permitted and inheritable cannot be raised: skipped, as
         * runc and crun do (the host side warned). */
        uint64_t amb = caps_ambient_effective(c, NULL);
        for (int i = 0; i <= last_cap && i < 64; i++) {
                if (!(amb & (UINT64_C(1) << i)))
                        continue;
                if (cap_set_ambient(i, CAP_SET) < 0) {
                        int e = errno;
                        char name[64];
                        return util_syserr(err, e, "raise ambient %s",
                                           cap_name(i, name, sizeof(name)));
                }
        }
        return 0;
}
