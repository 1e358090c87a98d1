/* SPDX-License-Identifier: Apache-2.0 */
/* src/gw's internal header: the records' persistent form (model.c) and the snapshot's compiled
 * routes (match.c), shared by store.c and match.c. */
#ifndef HUSK_GW_INT_H
#define HUSK_GW_INT_H

#include "gw.h"
#include "util/json.h"

#include <stdarg.h>

int gw_seterr(gw_error *err, gw_errcode code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ---- model.c: each record as a JSON object in the store (not the wire format: the adapter
 * renders that) ---- */
void gw_api_write(json_writer *j, const gw_api *a);
void gw_route_write(json_writer *j, const gw_route *r);
void gw_integration_write(json_writer *j, const gw_integration *i);
void gw_stage_write(json_writer *j, const gw_stage *s);
void gw_deployment_write(json_writer *j, const gw_deployment *d);
/* -1 when v is not such a record (a damaged store). The writers leave out `managed` (the store
 * keeps it in a column); the readers take it from a member "managed" that the store adds to
 * the document it read from that column. */
int gw_api_read(const json_value *v, gw_api **ret);
int gw_route_read(const json_value *v, gw_route **ret);
int gw_integration_read(const json_value *v, gw_integration **ret);
int gw_stage_read(const json_value *v, gw_stage **ret);
int gw_deployment_read(const json_value *v, gw_deployment **ret);

/* Deep copies (the snapshot's and the store's). */
gw_cors *gw_cors_copy(const gw_cors *c);
void gw_cors_free(gw_cors *c);

/* A stage name: "$default" or 1..GW_NAME_MAX of [A-Za-z0-9_-]. */
bool gw_stage_name_valid(const char *name);
/* The route key with each {name} made {} and {name+} made {+}: two keys that match the same
 * requests have the same form (allocated). */
char *gw_route_key_norm(const char *key);

/* ---- match.c: a route key compiled for matching ---- */
typedef enum { GW_SEG_LIT = 3, GW_SEG_PARAM = 2, GW_SEG_GREEDY = 1 } gw_seg_kind;
typedef struct gw_seg {
        gw_seg_kind kind;
        char *text; /* the literal, or the parameter's name (without '+') */
        size_t len;
} gw_seg;
typedef struct gw_croute {
        const gw_route *route;
        const gw_integration *integration;
        bool is_default; /* $default */
        bool any;        /* method ANY */
        char method[16];
        gw_seg *segs;
        size_t n_segs;
} gw_croute;
/* Compiles a valid route key (0), -1 when it is not one. */
int gw_route_compile(const char *key, gw_croute *c);
void gw_croute_done(gw_croute *c);

#endif
