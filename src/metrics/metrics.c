/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics registry: a stub until the metrics work lands (metrics.h is the contract). */
#include "metrics.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char *hm_labels(const char *k1, ...)
{
        (void)k1;
        return strdup("");
}

void hm_declare(const char *family, hm_type type, const char *help)
{
        (void)family, (void)type, (void)help;
}

void hm_inc(const char *family, const char *labels, double delta)
{
        (void)family, (void)labels, (void)delta;
}

void hm_set(const char *family, const char *labels, double value)
{
        (void)family, (void)labels, (void)value;
}

void hm_add(const char *family, const char *labels, double delta)
{
        (void)family, (void)labels, (void)delta;
}

void hm_observe(const char *family, const char *labels, double value)
{
        (void)family, (void)labels, (void)value;
}

void hm_forget(const char *labels_needle)
{
        (void)labels_needle;
}

void hm_collector_add(hm_collector_fn fn, void *ud)
{
        (void)fn, (void)ud;
}

void hm_collector_remove(hm_collector_fn fn, void *ud)
{
        (void)fn, (void)ud;
}

void hm_foreach(void (*fn)(const hm_sample *s, void *ud), void *ud)
{
        (void)fn, (void)ud;
}
