/* SPDX-License-Identifier: Apache-2.0 */
/* The stored networks: STORE/networks/NAME.conflist (CNI network lists). The default network
 * "husk" is written on first use. Host side. */
#include "net/net.h"
#include "image/image.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#include <sys/stat.h>

#define CONFLIST_MAX (1u << 20)

int net_store_path(const husk_image_opts_t *o, char **ret, husk_error_t *err)
{
        const char *sp = husk_image_store_path(o);
        int r = mkdir_p(sp, 0700);
        if (r < 0)
                return util_syserr(err, -r, "create the store %s", sp);
        char *p = realpath(sp, NULL);
        if (!p)
                return util_syserr(err, errno, "store %s", sp);
        *ret = p;
        return 0;
}

static int networks_dir(const char *store, int *ret_fd, husk_error_t *err)
{
        _cleanup_free_ char *p = xasprintf("%s/networks", store);
        int r = mkdir_p(p, 0700);
        if (r < 0)
                return util_syserr(err, -r, "create %s", p);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return util_syserr(err, errno, "open %s", p);
        *ret_fd = fd;
        return 0;
}

static int write_default(int dfd, husk_error_t *err)
{
        _cleanup_free_ char *text = net_conflist_text(NET_DEFAULT_NAME, NET_DEFAULT_BRIDGE,
                                                      NET_DEFAULT_SUBNET, NET_DEFAULT_GATEWAY,
                                                      NET_IPAM_DIR_DEFAULT);
        /* Atomic: two first uses at once both write the same text. */
        if (write_file_atomic_at(dfd, NET_DEFAULT_NAME ".conflist", text, strlen(text), 0600) < 0)
                return util_syserr(err, errno, "write the default network " NET_DEFAULT_NAME);
        return 0;
}

static int load_at(int dfd, const char *store, const char *name, net_conflist_t *ret,
                   char **ret_text, husk_error_t *err)
{
        _cleanup_free_ char *file = xasprintf("%s.conflist", name), *text = NULL;
        size_t len = 0;
        int r = read_file_at(dfd, file, CONFLIST_MAX, &text, &len);
        if (r == -ENOENT && strcmp(name, NET_DEFAULT_NAME) == 0) {
                if ((r = write_default(dfd, err)) < 0)
                        return r;
                r = read_file_at(dfd, file, CONFLIST_MAX, &text, &len);
        }
        if (r == -ENOENT)
                return husk_error_set(err, ENOENT, "network \"%s\" not found (husk network ls)", name);
        if (r < 0)
                return util_syserr(err, -r, "read %s/networks/%s", store, file);
        char eb[128];
        if (net_conflist_parse(text, len, ret, eb, sizeof(eb)) < 0)
                return husk_error_set(err, EINVAL, "%s/networks/%s: %s", store, file, eb);
        if (strcmp(ret->name, name) != 0) {
                husk_error_set(err, EINVAL, "%s/networks/%s: its name is \"%s\"", store, file,
                               ret->name);
                net_conflist_done(ret);
                return -EINVAL;
        }
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

int net_network_load(const char *store, const char *name, net_conflist_t *ret, char **ret_text,
                     husk_error_t *err)
{
        if (!net_name_valid(name))
                return husk_error_set(err, EINVAL, "invalid network name \"%s\"", name);
        _cleanup_close_ int dfd = -1;
        int r = networks_dir(store, &dfd, err);
        return r < 0 ? r : load_at(dfd, store, name, ret, ret_text, err);
}

int net_each_state(const char *store, int (*fn)(const char *id, const net_state_t *s, void *ud),
                   void *ud)
{
        _cleanup_free_ char *p = xasprintf("%s/containers", store);
        _cleanup_closedir_ DIR *d = opendir(p);
        struct dirent *de;
        int r = 0;
        while (r == 0 && d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *f = xasprintf("%s/network.json", de->d_name), *text = NULL;
                size_t len = 0;
                net_state_t s = { 0 };
                if (read_file_at(dirfd(d), f, CONFLIST_MAX, &text, &len) < 0 ||
                    net_state_parse(text, len, &s) < 0)
                        continue;
                r = fn(de->d_name, &s, ud);
                net_state_done(&s);
        }
        return r;
}

typedef struct users {
        const char *network;
        char **v;
        size_t n;
} users_t;

static int add_user(const char *id, const net_state_t *s, void *ud)
{
        users_t *u = ud;
        if (strcmp(s->network, u->network) == 0) {
                u->v = xrealloc(u->v, (u->n + 2) * sizeof(char *));
                u->v[u->n++] = xstrdup(id);
                u->v[u->n] = NULL;
        }
        return 0;
}

/* Ids of the store's containers whose network.json names network. */
static char **users_of(const char *store, const char *network)
{
        users_t u = { .network = network, .v = xcalloc(1, sizeof(char *)) };
        (void)net_each_state(store, add_user, &u); /* add_user never stops the walk */
        return u.v;
}

static void info_of(const char *store, const net_conflist_t *c, husk_network_info_t *i)
{
        i->name = xstrdup(c->name);
        i->bridge = c->bridge ? xstrdup(c->bridge) : NULL;
        i->subnet = c->subnet ? xstrdup(c->subnet) : NULL;
        i->gateway = c->gateway ? xstrdup(c->gateway) : NULL;
        i->path = xasprintf("%s/networks/%s.conflist", store, c->name);
        i->containers = users_of(store, c->name);
}

void husk_network_info_free(husk_network_info_t *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].name);
                free(v[i].bridge);
                free(v[i].subnet);
                free(v[i].gateway);
                free(v[i].path);
                strv_free(v[i].containers);
        }
        free(v);
}

static int cmp_info(const void *a, const void *b)
{
        return strcmp(((const husk_network_info_t *)a)->name, ((const husk_network_info_t *)b)->name);
}

/* Every parseable conflist of the folder (a broken one is skipped: it cannot be used anyway). */
static int list_at(int dfd, const char *store, husk_network_info_t **ret, size_t *ret_n,
                   husk_error_t *err)
{
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return util_syserr(err, e, "list %s/networks", store);
        }
        rewinddir(d); /* the dup shares dfd's offset */
        husk_network_info_t *v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l <= 9 || strcmp(de->d_name + l - 9, ".conflist") != 0)
                        continue;
                _cleanup_free_ char *name = xstrndup(de->d_name, l - 9);
                net_conflist_t c = { 0 };
                husk_error_t ignored; /* see above */
                if (!net_name_valid(name) || load_at(dfd, store, name, &c, NULL, &ignored) < 0)
                        continue;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                info_of(store, &c, &v[n++]);
                net_conflist_done(&c);
        }
        if (n)
                qsort(v, n, sizeof(*v), cmp_info);
        *ret = v;
        *ret_n = n;
        return 0;
}

int husk_network_list(const husk_image_opts_t *o, husk_network_info_t **ret, size_t *ret_n,
                      husk_error_t *err)
{
        _cleanup_free_ char *store = NULL;
        _cleanup_close_ int dfd = -1;
        net_conflist_t c = { 0 };
        int r = net_store_path(o, &store, err);
        if (r < 0 || (r = networks_dir(store, &dfd, err)) < 0)
                return r;
        /* The default network exists once anything asks for the list. */
        if ((r = load_at(dfd, store, NET_DEFAULT_NAME, &c, NULL, err)) < 0)
                return r;
        net_conflist_done(&c);
        return list_at(dfd, store, ret, ret_n, err);
}

static void info_json(json_writer *w, const husk_network_info_t *i)
{
        json_obj_begin(w);
        json_kv_str(w, "name", i->name);
        json_kv_str(w, "bridge", i->bridge);
        json_kv_str(w, "subnet", i->subnet);
        json_kv_str(w, "gateway", i->gateway);
        json_kv_str(w, "path", i->path);
        json_key(w, "containers");
        json_arr_begin(w);
        for (size_t k = 0; i->containers && i->containers[k]; k++)
                json_str(w, i->containers[k]);
        json_arr_end(w);
        json_obj_end(w);
}

int husk_network_list_json(const husk_image_opts_t *o, char **ret_json, husk_error_t *err)
{
        husk_network_info_t *v = NULL;
        size_t n = 0;
        int r = husk_network_list(o, &v, &n, err);
        if (r < 0)
                return r;
        json_writer *w = json_writer_new(true);
        json_arr_begin(w);
        for (size_t i = 0; i < n; i++)
                info_json(w, &v[i]);
        json_arr_end(w);
        *ret_json = json_writer_finish(w);
        husk_network_info_free(v, n);
        return 0;
}

/* An IPv4 address of a host interface (but skip: the bridge the network will use, left over
 * from an earlier network of that name) inside subnet: its name, else NULL. */
static char *host_iface_in(const net_cidr_t *subnet, const char *skip)
{
        struct ifaddrs *ifa = NULL;
        char *found = NULL;
        if (getifaddrs(&ifa) < 0)
                return NULL; /* only a courtesy check: CNI ADD would fail later */
        for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
                    (skip && strcmp(i->ifa_name, skip) == 0))
                        continue;
                uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
                uint32_t m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
                net_cidr_t c = { .addr = a & m, .prefix = (unsigned)__builtin_popcount(m) };
                if (net_cidr_overlap(&c, subnet))
                        found = xstrdup(i->ifa_name);
        }
        freeifaddrs(ifa);
        return found;
}

static const husk_network_info_t *overlapping(const husk_network_info_t *v, size_t n,
                                              const net_cidr_t *subnet)
{
        for (size_t i = 0; i < n; i++) {
                net_cidr_t c;
                if (v[i].subnet && net_parse_cidr(v[i].subnet, &c, NULL) == 0 &&
                    net_cidr_overlap(&c, subnet))
                        return &v[i];
        }
        return NULL;
}

static bool bridge_taken(const husk_network_info_t *v, size_t n, const char *bridge)
{
        for (size_t i = 0; i < n; i++)
                if (v[i].bridge && strcmp(v[i].bridge, bridge) == 0)
                        return true;
        return false;
}

/* The first 10.90.0.0/24 ... 10.99.255.0/24 that overlaps no network and no host address. */
static int pick_subnet(const husk_network_info_t *v, size_t n, net_cidr_t *ret, husk_error_t *err)
{
        for (uint32_t k = 0; k < 10 * 256; k++) {
                net_cidr_t c = { .addr = (10u << 24) | ((90u + k / 256) << 16) | ((k % 256) << 8),
                                 .prefix = 24 };
                _cleanup_free_ char *ifn = NULL;
                if (overlapping(v, n, &c) || (ifn = host_iface_in(&c, NULL)))
                        continue;
                *ret = c;
                return 0;
        }
        return husk_error_set(err, ENOSPC, "no free subnet in 10.90.0.0-10.99.255.0/24: give --subnet");
}

static int check_create(const husk_network_create_opts_t *co, const husk_network_info_t *v,
                        size_t n, net_cidr_t *subnet, uint32_t *gw, char **bridge,
                        husk_error_t *err)
{
        if (!co->name || !net_name_valid(co->name))
                return husk_error_set(err, EINVAL, "invalid network name \"%s\": letters, digits, "
                                      "_ . - (up to 64, not none, host or bridge)",
                                      co->name ? co->name : "");
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].name, co->name) == 0)
                        return husk_error_set(err, EEXIST, "network \"%s\" already exists", co->name);
        bool host_bits = false;
        if (co->subnet) {
                if (net_parse_cidr(co->subnet, subnet, &host_bits) < 0 || subnet->prefix > 30 ||
                    subnet->prefix < 8)
                        return husk_error_set(err, EINVAL, "invalid --subnet \"%s\": an IPv4 "
                                              "A.B.C.D/N with N from 8 to 30", co->subnet);
                _cleanup_free_ char *norm = net_format_cidr(subnet);
                if (host_bits)
                        return husk_error_set(err, EINVAL, "invalid --subnet \"%s\": host bits "
                                              "are set (did you mean %s?)", co->subnet, norm);
                const husk_network_info_t *o = overlapping(v, n, subnet);
                if (o)
                        return husk_error_set(err, EEXIST, "subnet %s overlaps network \"%s\" (%s)",
                                              norm, o->name, o->subnet);
                _cleanup_free_ char *ifn = host_iface_in(subnet, co->bridge);
                if (ifn)
                        return husk_error_set(err, EEXIST, "subnet %s overlaps an address of "
                                              "the host's interface %s", norm, ifn);
        } else {
                int r = pick_subnet(v, n, subnet, err);
                if (r < 0)
                        return r;
        }
        uint32_t bcast = subnet->addr | ~(0xffffffffu << (32 - subnet->prefix));
        *gw = subnet->addr + 1;
        if (co->gateway && (net_parse_ipv4(co->gateway, gw) < 0 || !net_cidr_contains(subnet, *gw) ||
                            *gw == subnet->addr || *gw == bcast))
                return husk_error_set(err, EINVAL, "invalid --gateway \"%s\": an address inside "
                                      "the subnet", co->gateway);
        if (co->bridge) {
                if (!net_ifname_valid(co->bridge))
                        return husk_error_set(err, EINVAL, "invalid --bridge \"%s\": an interface "
                                              "name of 1-15 characters", co->bridge);
                if (bridge_taken(v, n, co->bridge))
                        return husk_error_set(err, EEXIST, "bridge %s is used by another network",
                                              co->bridge);
                *bridge = xstrdup(co->bridge);
                return 0;
        }
        for (unsigned k = 1; k < 10000; k++) {
                _cleanup_free_ char *b = xasprintf("husk%u", k);
                if (!bridge_taken(v, n, b) && if_nametoindex(b) == 0) {
                        *bridge = TAKE_PTR(b);
                        return 0;
                }
        }
        return husk_error_set(err, ENOSPC, "no free bridge name: give --bridge");
}

int husk_network_create(const husk_image_opts_t *o, const husk_network_create_opts_t *co,
                        husk_network_info_t *ret, husk_error_t *err)
{
        _cleanup_free_ char *store = NULL, *bridge = NULL, *subnet_s = NULL, *text = NULL,
                            *file = NULL;
        _cleanup_close_ int lock = -1, dfd = -1;
        husk_network_info_t *v = NULL;
        size_t n = 0;
        net_cidr_t subnet = { 0 };
        uint32_t gw = 0;
        char gws[16];
        int r = net_store_path(o, &store, err);
        if (r < 0 || (r = net_lock(store, &lock, err)) < 0 || (r = networks_dir(store, &dfd, err)) < 0)
                return r;
        if ((r = husk_network_list(o, &v, &n, err)) < 0)
                return r;
        r = check_create(co, v, n, &subnet, &gw, &bridge, err);
        husk_network_info_free(v, n);
        if (r < 0)
                return r;
        subnet_s = net_format_cidr(&subnet);
        net_format_ipv4(gw, gws);
        text = net_conflist_text(co->name, bridge, subnet_s, gws, NET_IPAM_DIR_DEFAULT);
        file = xasprintf("%s.conflist", co->name);
        if (write_file_atomic_at(dfd, file, text, strlen(text), 0600) < 0)
                return util_syserr(err, errno, "write %s/networks/%s", store, file);
        if (ret) {
                net_conflist_t c = { 0 };
                if ((r = load_at(dfd, store, co->name, &c, NULL, err)) < 0)
                        return r;
                info_of(store, &c, ret);
                net_conflist_done(&c);
        }
        return 0;
}

int husk_network_inspect(const husk_image_opts_t *o, const char *name, char **ret_json,
                         husk_error_t *err)
{
        _cleanup_free_ char *store = NULL;
        net_conflist_t c = { 0 };
        int r = net_store_path(o, &store, err);
        if (r < 0 || (r = net_network_load(store, name, &c, ret_json, err)) < 0)
                return r;
        net_conflist_done(&c);
        return 0;
}

/* The leases folder of host-local (dataDir/NAME) and the bridge go when nothing uses them. */
static int rm_leftovers(const net_conflist_t *c, husk_error_t *err)
{
        for (size_t i = 0; i < c->plugins->n; i++) {
                const json_value *ipam = json_get(c->plugins->items[i], "ipam");
                const char *dd = json_get_str(ipam, "dataDir");
                const char *type = json_get_str(ipam, "type");
                if (!type || strcmp(type, "host-local") != 0 || !dd || dd[0] != '/')
                        continue;
                _cleanup_close_ int dfd = open(dd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int r = dfd < 0 ? 0 : rm_rf_at(dfd, c->name);
                if (r < 0 && r != -ENOENT)
                        return util_syserr(err, -r, "remove the leases %s/%s", dd, c->name);
        }
        return c->bridge ? net_link_delete(c->bridge, err) : 0;
}

int husk_network_rm(const husk_image_opts_t *o, const char *name, bool force, husk_error_t *err)
{
        _cleanup_free_ char *store = NULL, *file = NULL;
        _cleanup_close_ int lock = -1, dfd = -1;
        _cleanup_strv_ char **users = NULL;
        net_conflist_t c = { 0 };
        if (!net_name_valid(name))
                return husk_error_set(err, EINVAL, "invalid network name \"%s\"", name);
        if (strcmp(name, NET_DEFAULT_NAME) == 0)
                return husk_error_set(err, EPERM, "the default network \"%s\" cannot be removed",
                                      name);
        int r = net_store_path(o, &store, err);
        if (r < 0 || (r = net_lock(store, &lock, err)) < 0 || (r = networks_dir(store, &dfd, err)) < 0)
                return r;
        if ((r = load_at(dfd, store, name, &c, NULL, err)) < 0)
                return r;
        users = users_of(store, name);
        if (users[0] && !force) {
                net_conflist_done(&c);
                return husk_error_set(err, EBUSY, "network \"%s\" is used by container %s%s "
                                      "(husk network rm -f removes it anyway)", name, users[0],
                                      users[1] ? " and others" : "");
        }
        file = xasprintf("%s.conflist", name);
        if (unlinkat(dfd, file, 0) < 0) {
                net_conflist_done(&c);
                return util_syserr(err, errno, "remove %s/networks/%s", store, file);
        }
        /* With containers still on it, their leases and the bridge stay: their teardown (from
         * their own copy of the conflist) releases them. */
        r = users[0] ? 0 : rm_leftovers(&c, err);
        net_conflist_done(&c);
        return r;
}
