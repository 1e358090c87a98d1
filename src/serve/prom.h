/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text exposition format, version 0.0.4: husk's writer (prom.c: the registry of
 * src/metrics rendered for GET /metrics) and a strict reader (promread.c: for `husk fn stats`,
 * `husk queue stats` and the tests that check what the writer wrote). */
#ifndef HUSK_SERVE_PROM_H
#define HUSK_SERVE_PROM_H

#include <stdbool.h>
#include <stddef.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The bound of a text the reader takes (the stats commands read a server's whole /metrics). */
#define PROM_TEXT_MAX (64u << 20)

/* The registry as text: for each family "# HELP" and "# TYPE", then its samples; a summary NAME
 * as NAME{...,quantile="0.5"|"0.99"}, NAME_sum and NAME_count, then its maxima as the gauge
 * family NAME_max. Allocated. */
char *prom_render(size_t *ret_len);
/* A number as the format writes it: integers without a decimal point, others with the fewest
 * digits that read back the same; NaN, +Inf, -Inf. */
void prom_format_double(double v, char out[32]);

typedef struct prom_label {
        char *name, *value; /* value unescaped */
} prom_label;

typedef struct prom_sample {
        char *name;   /* the sample's name (NAME_sum, NAME_count included) */
        char *family; /* the family it belongs to */
        char *type;   /* its family's type: counter, gauge, summary, histogram, untyped */
        prom_label *labels;
        size_t n_labels;
        double value;
} prom_sample;

typedef struct prom_doc {
        prom_sample *s;
        size_t n;
} prom_doc;

/* Reads text strictly: every line ends in '\n'; a "# HELP" or "# TYPE" at most once per family
 * and TYPE before its samples; a family's lines together (never again after another family
 * began); sample names that belong to their family's type (a summary's NAME with a quantile
 * label, NAME_sum, NAME_count; a histogram's _bucket with le, _sum, _count); label names
 * valid and distinct, values with only \\, \" and \n escapes; values Go's floats; a sample (name
 * and labels) only once. -EINVAL with the line number and reason in why. */
int prom_parse(const char *text, size_t len, prom_doc *ret, char *why, size_t why_len);
void prom_doc_free(prom_doc *d);
/* The value of label name, or NULL. */
const char *prom_label_get(const prom_sample *s, const char *name);

#endif
