/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the network module: CNI networks for `husk run`.
 *   plan.c     pure: port specs, IPv4 subnets, names, conflist text and summary, plugin configs
 *              for the CNI chain, CNI result parsing, /etc/hosts and resolv.conf text,
 *              network.json (unit tested in tests/unit/test_net.c)
 *   cni.c      exec of the CNI plugins (ADD chain with prevResult, DEL in reverse)
 *   netns.c    network namespace creation/removal, host port probes, the network lock
 *   networks.c the stored networks (STORE/networks/NAME.conflist): default, create, ls, rm
 *   attach.c   what image run calls: set a container's network up, and tear it down */
#ifndef HUSK_NET_H
#define HUSK_NET_H

#include "husk/net.h"
#include "util/json.h"
#include "util/util.h"

#include <stdint.h>

#define NET_DEFAULT_NAME "husk"
#define NET_DEFAULT_BRIDGE "husk0"
#define NET_DEFAULT_SUBNET "10.89.0.0/16"
#define NET_DEFAULT_GATEWAY "10.89.0.1"
#define NET_CNI_VERSION "1.0.0"
#define NET_IFNAME "eth0"
/* host-local leases: host-wide, not per store (see attach.c / README "Networks"). */
#define NET_IPAM_DIR_DEFAULT "/run/husk-ipam"
#define NET_CNI_PATH_DEFAULT "/usr/lib/cni:/opt/cni/bin"

/* ---- plan.c: pure ---- */

typedef struct net_port {
        char host_ip[16]; /* dotted IPv4, "" = every address */
        uint16_t host_port;
        uint16_t ctr_port;
        char proto[4]; /* "tcp" or "udp" */
} net_port_t;
/* [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]. -EINVAL with *ret_reason. */
int net_parse_port(const char *spec, net_port_t *ret, const char **ret_reason);
/* Two mappings that cannot both exist on one host (same protocol and port, overlapping IP). */
bool net_port_conflict(const net_port_t *a, const net_port_t *b);

typedef struct net_cidr {
        uint32_t addr; /* host byte order, host bits cleared */
        unsigned prefix;
} net_cidr_t;
/* Dotted quad, strict (4 decimal parts 0-255, no leading zeros beyond "0"). */
int net_parse_ipv4(const char *s, uint32_t *ret);
void net_format_ipv4(uint32_t a, char buf[16]);
/* A.B.C.D/N, N in 0..32. *ret_host_bits is true when the address had host bits set (the
 * result has them cleared). */
int net_parse_cidr(const char *s, net_cidr_t *ret, bool *ret_host_bits);
char *net_format_cidr(const net_cidr_t *c);
bool net_cidr_overlap(const net_cidr_t *a, const net_cidr_t *b);
bool net_cidr_contains(const net_cidr_t *c, uint32_t ip);

/* Network names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, not none, host or bridge. */
bool net_name_valid(const char *name);
/* A Linux interface name: 1-15 characters, no '/', ':', whitespace, not "." or "..". */
bool net_ifname_valid(const char *name);

/* The conflist husk writes: bridge + portmap + firewall + tuning, host-local IPAM. */
char *net_conflist_text(const char *name, const char *bridge, const char *subnet,
                        const char *gateway, const char *ipam_dir);

/* A parsed conflist. root owns the tree; the other pointers point into it. */
typedef struct net_conflist {
        json_value *root;
        const char *name;
        const char *cni_version;
        const json_value *plugins; /* array of objects, at least one */
        /* From the first plugin whose ipam has ranges/subnet (NULL when absent). */
        const char *bridge, *subnet, *gateway;
} net_conflist_t;
/* Checks the shape: name, cniVersion, plugins[] of objects with a plain "type". -EINVAL with a
 * reason in errbuf. */
int net_conflist_parse(const char *text, size_t len, net_conflist_t *ret, char *errbuf,
                       size_t errlen);
void net_conflist_done(net_conflist_t *c);

/* Serialises a parsed value as compact JSON (numbers as written). */
char *net_json_text(const json_value *v);

/* Stdin of plugin i: its object with name and cniVersion of the list, prevResult (if prev) and
 * runtimeConfig.portMappings (if the plugin has capabilities.portMappings). */
char *net_plugin_config(const net_conflist_t *c, size_t i, const json_value *prev,
                        const net_port_t *ports, size_t n_ports);

typedef struct net_result {
        char **ips;    /* "10.89.0.5/16", NULL-terminated (may be empty) */
        char *gateway; /* of the first address, or NULL */
        char *mac;     /* of ifname in the sandbox, or NULL */
} net_result_t;
/* The addresses of ifname (the interface with a sandbox) in a CNI 0.3+/1.0 result. */
int net_result_parse(const json_value *res, const char *ifname, net_result_t *ret);
void net_result_done(net_result_t *r);

/* The error of a failed plugin: {"code", "msg", "details"} -> "msg (details)", or NULL. */
char *net_cni_error_text(const char *stdout_text);

/* /etc/hosts: localhost lines, then host_text (host mode: the host's file) if given, then
 * "ADDR\tHOSTNAME" for the container (ip without prefix; 127.0.1.1 when NULL), then
 * "GATEWAY\thost.husk.internal" when gateway is set. */
char *net_hosts_text(const char *hostname, const char *ip, const char *gateway,
                     const char *host_text);
/* resolv.conf from the host's: without 127.x/::1 nameservers unless keep_local; when none is
 * left and fallback, public resolvers (as podman and docker do). */
char *net_resolv_text(const char *host_text, bool keep_local, bool fallback);

/* STORE/containers/ID/network.json (the service helper reads it). */
typedef struct net_state {
        char *network;   /* "husk", a NAME, "none" or "host" */
        char *netns;     /* "" for host */
        char *interface; /* "eth0", "" without CNI */
        char **ips;
        char *gateway;
        char *mac;
        net_port_t *ports;
        size_t n_ports;
} net_state_t;
char *net_state_text(const net_state_t *s);
int net_state_parse(const char *text, size_t len, net_state_t *ret);
void net_state_done(net_state_t *s);
/* Calls fn(id, state, ud) for each container of the store with a readable network.json
 * (unreadable ones are skipped); stops at and returns the first non-zero result. */
int net_each_state(const char *store, int (*fn)(const char *id, const net_state_t *s, void *ud),
                   void *ud);

/* ---- netns.c ---- */

/* Creates a network namespace with lo up and bind-mounts it on dirfd/name (an empty file that
 * this makes; the mount is private). */
int net_netns_create(int dirfd, const char *name, const char *path, husk_error_t *err);
/* Unmounts and removes dirfd/name. 0 when it was not there. */
int net_netns_remove(int dirfd, const char *name, const char *path, husk_error_t *err);
/* Binds each host port once (the socket is closed again): -EADDRINUSE with a clear message
 * when one is taken. */
int net_ports_probe(const net_port_t *ports, size_t n, husk_error_t *err);
/* Exclusive lock on STORE/networks/.lock (created); *ret_fd closes it. */
int net_lock(const char *store, int *ret_fd, husk_error_t *err);
/* Deletes a bridge interface by name (netlink); 0 when there is none. */
int net_link_delete(const char *ifname, husk_error_t *err);

/* ---- cni.c ---- */

/* ADD every plugin of the list in order, each with the previous result. *ret_result is the
 * final result (allocated JSON text). On failure the plugins already added are deleted again. */
int net_cni_add(const net_conflist_t *c, const char *id, const char *netns, const char *ifname,
                const net_port_t *ports, size_t n_ports, char **ret_result, husk_error_t *err);
/* DEL every plugin in reverse order, with the cached result (may be NULL). Goes on after a
 * failing plugin; returns the first error. */
int net_cni_del(const net_conflist_t *c, const char *id, const char *netns, const char *ifname,
                const char *result, const net_port_t *ports, size_t n_ports, husk_error_t *err);

/* ---- networks.c ---- */

/* The store folder of husk_image_store_path, made and resolved (realpath). */
int net_store_path(const husk_image_opts_t *o, char **ret, husk_error_t *err);
/* Reads STORE/networks/NAME.conflist; the default network is written first when it is asked
 * for and missing. *ret_text (may be NULL) gets the file's text. */
int net_network_load(const char *store, const char *name, net_conflist_t *ret, char **ret_text,
                     husk_error_t *err);

/* ---- pasta.c: rootless networks ---- */

/* "ADDRESS/HOSTPORT:CTRPORT" (127.0.0.1 when the spec names no address), allocated. */
char *net_pasta_port_arg(const net_port_t *p);
/* Start pasta on the namespace file netns (in the container folder dirfd = bundle): it configures
 * the namespace, forwards the ports, and stays in the background (its pid in pasta.pid). */
int net_pasta_start(int dirfd, const char *bundle, const char *netns, const net_port_t *ports,
                    size_t n, husk_error_t *err);
/* Stop the folder's pasta, if one runs (best effort; it also quits once netns is removed). */
void net_pasta_stop(int dirfd);

/* ---- attach.c: for image run ---- */

typedef struct net_setup_req {
        const char *store;   /* realpath of the store */
        const char *bundle;  /* STORE/containers/ID */
        int dirfd;           /* the container folder */
        const char *id;
        const char *network; /* NULL/"none", "host", "pasta", "bridge" or a NAME */
        char *const *publish;
        const char *hostname;
        char *const *volumes; /* the user's -v (their own /etc/hosts etc. win) */
} net_setup_req_t;

typedef struct net_mount {
        char *dest;
        char *source;
} net_mount_t;

typedef struct net_setup {
        char *netns; /* the namespace path for config.json, NULL: the host's (no entry) */
        net_mount_t mounts[3];
        size_t n_mounts;
} net_setup_t;

/* Sets up the container's network and writes network.json, hosts, hostname, resolv.conf into
 * the folder. On failure, what it made is still described by files in the folder, and
 * net_container_teardown removes it. */
int net_container_setup(const net_setup_req_t *req, net_setup_t *ret, husk_error_t *err);
void net_setup_done(net_setup_t *s);
/* CNI DEL from the folder's saved conflist and result, unmount and remove the netns. Needs
 * nothing but the folder; idempotent. Goes on after errors; returns the first. */
int net_container_teardown(int dirfd, const char *bundle, const char *id, husk_error_t *err);

#endif
