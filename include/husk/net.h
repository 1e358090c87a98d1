/* SPDX-License-Identifier: Apache-2.0 */
/* husk: public network API (CNI networks stored as STORE/networks/NAME.conflist). */
#ifndef HUSK_NET_PUBLIC_H
#define HUSK_NET_PUBLIC_H

#include "husk/husk.h"
#include "husk/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default network of `husk run` (--network bridge): written on first use. */
#define HUSK_NETWORK_DEFAULT "husk"

/* One stored network, for listings. Every string is allocated; subnet/gateway/bridge may be
 * NULL for a conflist that husk did not write. */
typedef struct husk_network_info {
        char *name;
        char *bridge;
        char *subnet;
        char *gateway;
        char *path; /* the .conflist file */
        char **containers; /* NULL-terminated ids of the store's containers on it */
} husk_network_info_t;

typedef struct husk_network_create_opts {
        const char *name;
        const char *subnet;  /* IPv4 CIDR; NULL: the first free 10.89.N.0/24 */
        const char *gateway; /* NULL: the first address of the subnet */
        const char *bridge;  /* NULL: the first free huskN */
} husk_network_create_opts_t;

/* Every network of the store (the default one is written first when missing), by name. */
int husk_network_list(const husk_image_opts_t *o, husk_network_info_t **ret, size_t *ret_n,
                      husk_error_t *err);
void husk_network_info_free(husk_network_info_t *v, size_t n);
/* JSON array [{"name","bridge","subnet","gateway","path","containers"}]. */
int husk_network_list_json(const husk_image_opts_t *o, char **ret_json, husk_error_t *err);
/* Writes STORE/networks/NAME.conflist. Refuses a bad or taken name, a subnet overlapping another
 * network of the store or an address of a host interface, a gateway outside the subnet, a
 * bridge name another network uses. */
int husk_network_create(const husk_image_opts_t *o, const husk_network_create_opts_t *c,
                        husk_network_info_t *ret, husk_error_t *err);
/* The conflist text of NAME. */
int husk_network_inspect(const husk_image_opts_t *o, const char *name, char **ret_json,
                         husk_error_t *err);
/* Removes NAME's conflist, its leases folder and its bridge. -EBUSY while a container of the store
 * is on it unless force (its containers keep their own copy of the conflist, so their teardown
 * still works). The default network cannot be removed (-EPERM). */
int husk_network_rm(const husk_image_opts_t *o, const char *name, bool force, husk_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
