/* SPDX-License-Identifier: Apache-2.0 */
/* A container's network, host side (called by image run, src/libhusk/image/run.c).
 *
 * Everything it makes is described by files in the container folder STORE/containers/ID, so
 * that teardown needs nothing but the folder (also after husk or the container was killed):
 *   netns          the network namespace, bind-mounted on an empty file (none and CNI modes)
 *   cni.conflist   the network list used for ADD, written BEFORE the ADD
 *   cni-result.json  the final CNI result (DEL's prevResult)
 *   network.json   the summary {"network","netns","interface","ips","gateway","mac","ports"}
 *   hosts hostname resolv.conf   generated, bind-mounted into the container */
#include "net/net.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_MAX (1u << 20)

static const char *mode_of(const char *network)
{
        if (!network || !network[0] || strcmp(network, "none") == 0)
                return "none";
        if (strcmp(network, "bridge") == 0)
                return NET_DEFAULT_NAME;
        return network;
}

static int parse_ports(char *const *specs, net_port_t **ret, size_t *ret_n, husk_error_t *err)
{
        size_t n = strv_length(specs);
        _cleanup_free_ net_port_t *v = xcalloc(n + 1, sizeof(*v));
        for (size_t i = 0; i < n; i++) {
                const char *why = NULL;
                if (net_parse_port(specs[i], &v[i], &why) < 0)
                        return husk_error_set(err, EINVAL, "invalid --publish \"%s\": %s", specs[i], why);
                for (size_t k = 0; k < i; k++)
                        if (net_port_conflict(&v[k], &v[i]))
                                return husk_error_set(err, EINVAL, "--publish %s and %s use the "
                                                      "same host port", specs[k], specs[i]);
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

typedef struct port_probe {
        const net_port_t *ports;
        size_t n;
        husk_error_t *err;
} port_probe_t;

static int port_taken_by(const char *id, const net_state_t *s, void *ud)
{
        port_probe_t *q = ud;
        for (size_t i = 0; i < s->n_ports; i++)
                for (size_t k = 0; k < q->n; k++)
                        if (net_port_conflict(&s->ports[i], &q->ports[k]))
                                return husk_error_set(q->err, EADDRINUSE, "port %s%s%u/%s is "
                                                      "already published by container %s",
                                                      q->ports[k].host_ip,
                                                      q->ports[k].host_ip[0] ? ":" : "",
                                                      q->ports[k].host_port, q->ports[k].proto, id);
        return 0;
}

/* Another container of the store that publishes one of these ports (portmap's DNAT rules do
 * not hold a socket, so the bind probe cannot see them). */
static int ports_free_in_store(const char *store, const net_port_t *ports, size_t n,
                               husk_error_t *err)
{
        port_probe_t q = { .ports = ports, .n = n, .err = err };
        return n ? net_each_state(store, port_taken_by, &q) : 0;
}

static int write_at(int dirfd, const char *name, const char *text, mode_t mode, husk_error_t *err)
{
        if (write_file_atomic_at(dirfd, name, text, strlen(text), mode) < 0)
                return util_syserr(err, errno, "write %s of the container", name);
        return 0;
}

/* The CNI part: under the store's network lock, from the port checks to network.json. */
static int cni_attach(const net_setup_req_t *q, const char *name, const char *netns,
                      const net_port_t *ports, size_t n_ports, net_state_t *st, husk_error_t *err)
{
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *text = NULL, *result = NULL, *js = NULL;
        net_conflist_t c = { 0 };
        json_value *res = NULL;
        net_result_t nr = { 0 };
        char eb[96];
        int r = net_network_load(q->store, name, &c, &text, err);
        if (r < 0)
                return r;
        if ((r = net_lock(q->store, &lock, err)) < 0 ||
            (r = ports_free_in_store(q->store, ports, n_ports, err)) < 0 ||
            (r = net_ports_probe(ports, n_ports, err)) < 0)
                goto out;
        /* Before the ADD: from here on teardown knows there is something to DEL. */
        if ((r = write_at(q->dirfd, "cni.conflist", text, 0600, err)) < 0 ||
            (r = net_netns_create(q->dirfd, "netns", netns, err)) < 0 ||
            (r = net_cni_add(&c, q->id, netns, NET_IFNAME, ports, n_ports, &result, err)) < 0)
                goto out;
        if ((r = write_at(q->dirfd, "cni-result.json", result, 0600, err)) < 0)
                goto out;
        if (json_parse(result, strlen(result), &res, eb, sizeof(eb)) < 0 ||
            net_result_parse(res, NET_IFNAME, &nr) < 0 || !nr.ips[0]) {
                r = husk_error_set(err, EINVAL, "network %s: the CNI result has no address for "
                                   "%s", name, NET_IFNAME);
                goto out;
        }
        st->interface = xstrdup(NET_IFNAME);
        st->ips = TAKE_PTR(nr.ips);
        st->gateway = TAKE_PTR(nr.gateway);
        st->mac = TAKE_PTR(nr.mac);
        st->ports = xcalloc(n_ports + 1, sizeof(net_port_t));
        memcpy(st->ports, ports, n_ports * sizeof(net_port_t));
        st->n_ports = n_ports;
        js = net_state_text(st);
        r = write_at(q->dirfd, "network.json", js, 0644, err);
out:
        json_value_free(res);
        net_result_done(&nr);
        net_conflist_done(&c);
        return r;
}

/* --network pasta: the namespace, network.json (ports included: teardown and ps read it), then
 * pasta. Ports are checked as for CNI: in the store, then with a bind probe on the host. */
static int pasta_attach(const net_setup_req_t *q, const char *netns, const net_port_t *ports,
                        size_t n_ports, net_state_t *st, husk_error_t *err)
{
        _cleanup_close_ int lock = -1;
        net_port_t *lo = xcalloc(n_ports + 1, sizeof(net_port_t));
        memcpy(lo, ports, n_ports * sizeof(net_port_t));
        for (size_t i = 0; i < n_ports; i++)
                if (!lo[i].host_ip[0])
                        snprintf(lo[i].host_ip, sizeof(lo[i].host_ip), "127.0.0.1");
        st->ports = lo;
        st->n_ports = n_ports;
        int r;
        if ((r = net_lock(q->store, &lock, err)) < 0 ||
            (r = ports_free_in_store(q->store, lo, n_ports, err)) < 0 ||
            (r = net_ports_probe(lo, n_ports, err)) < 0 ||
            (r = net_netns_create(q->dirfd, "netns", netns, err)) < 0)
                return r;
        _cleanup_free_ char *js = net_state_text(st);
        if ((r = write_at(q->dirfd, "network.json", js, 0644, err)) < 0)
                return r;
        return net_pasta_start(q->dirfd, q->bundle, netns, lo, n_ports, err);
}

static int etc_files(const net_setup_req_t *q, const net_state_t *st, bool host,
                     net_setup_t *s, husk_error_t *err)
{
        _cleanup_free_ char *host_hosts = NULL, *host_resolv = NULL;
        _cleanup_free_ char *hn = xstrndup(q->hostname ? q->hostname : q->id, 63);
        if (host)
                (void)read_file_at(AT_FDCWD, "/etc/hosts", FILE_MAX, &host_hosts, NULL);
        /* Missing or unreadable: the container simply gets no host entries / nameservers. */
        (void)read_file_at(AT_FDCWD, "/etc/resolv.conf", FILE_MAX, &host_resolv, NULL);
        bool cni = st->ips && st->ips[0];
        _cleanup_free_ char *hosts = net_hosts_text(hn, cni ? st->ips[0] : NULL,
                                                    cni && st->gateway && st->gateway[0]
                                                            ? st->gateway : NULL, host_hosts);
        /* host: the host's resolver works as it is (127.0.0.53 included); none and CNI
         * networks cannot reach the host's loopback. Public resolvers only with a network. */
        _cleanup_free_ char *resolv = net_resolv_text(host_resolv, host, cni);
        _cleanup_free_ char *hostname = xasprintf("%s\n", hn);
        static const char *const names[] = { "hosts", "hostname", "resolv.conf" };
        const char *texts[] = { hosts, hostname, resolv };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                int r = write_at(q->dirfd, names[i], texts[i], 0644, err);
                if (r < 0)
                        return r;
                s->mounts[i].dest = xasprintf("/etc/%s", names[i]);
                s->mounts[i].source = xasprintf("%s/%s", q->bundle, names[i]);
                s->n_mounts = i + 1;
        }
        return 0;
}

int net_container_setup(const net_setup_req_t *q, net_setup_t *ret, husk_error_t *err)
{
        const char *mode = mode_of(q->network);
        bool host = strcmp(mode, "host") == 0, none = strcmp(mode, "none") == 0;
        _cleanup_free_ net_port_t *ports = NULL;
        _cleanup_free_ char *netns = xasprintf("%s/netns", q->bundle);
        size_t n_ports = 0;
        net_setup_t s = { 0 };
        net_state_t st = { .network = xstrdup(mode) };
        int r = parse_ports(q->publish, &ports, &n_ports, err);
        bool pasta = strcmp(mode, "pasta") == 0;
        if (r == 0 && n_ports && (host || none))
                r = husk_error_set(err, EINVAL, "--publish needs a bridge network (--network %s "
                                   "has no ports to publish)", mode);
        /* CNI plugins make bridges, veths and iptables rules in the host's namespaces. */
        if (r == 0 && !host && !none && !pasta && util_rootless())
                r = husk_error_set(err, EPERM, "--network %s: bridge and CNI networks need root; "
                                   "as a user, use --network pasta (the default: outbound access "
                                   "and -p through pasta), none or host",
                                   q->network);
        if (r == 0 && !host && !none && !pasta && !net_name_valid(mode))
                r = husk_error_set(err, EINVAL, "invalid --network \"%s\": none, host, bridge or "
                                   "a network NAME (husk network ls)", mode);
        if (r < 0)
                goto out;
        if (none) {
                st.netns = xstrdup(netns);
                r = net_netns_create(q->dirfd, "netns", netns, err);
        } else if (pasta) {
                st.netns = xstrdup(netns);
                r = pasta_attach(q, netns, ports, n_ports, &st, err);
        } else if (!host) {
                st.netns = xstrdup(netns);
                r = cni_attach(q, mode, netns, ports, n_ports, &st, err);
        }
        if (r == 0 && (host || none)) {
                _cleanup_free_ char *js = net_state_text(&st);
                r = write_at(q->dirfd, "network.json", js, 0644, err);
        }
        if (r == 0)
                r = etc_files(q, &st, host, &s, err);
        if (r < 0) {
                net_setup_done(&s);
                goto out;
        }
        s.netns = host ? NULL : TAKE_PTR(netns);
        *ret = s;
out:
        net_state_done(&st);
        return r;
}

void net_setup_done(net_setup_t *s)
{
        free(s->netns);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].dest);
                free(s->mounts[i].source);
        }
        *s = (net_setup_t){ 0 };
}

static int cni_detach(int dirfd, const char *bundle, const char *id, const char *netns,
                      husk_error_t *err)
{
        _cleanup_free_ char *text = NULL, *result = NULL, *state = NULL;
        size_t len = 0, slen = 0;
        int r = read_file_at(dirfd, "cni.conflist", FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return util_syserr(err, -r, "read %s/cni.conflist", bundle);
        net_conflist_t c = { 0 };
        char eb[96];
        if (net_conflist_parse(text, len, &c, eb, sizeof(eb)) < 0)
                return husk_error_set(err, EINVAL, "%s/cni.conflist: %s", bundle, eb);
        (void)read_file_at(dirfd, "cni-result.json", FILE_MAX, &result, NULL); /* may be absent */
        net_state_t st = { 0 };
        if (read_file_at(dirfd, "network.json", FILE_MAX, &state, &slen) < 0 ||
            net_state_parse(state, slen, &st) < 0)
                st = (net_state_t){ 0 }; /* killed before it was written: DEL without ports */
        /* The store is two levels up: STORE/containers/ID. */
        _cleanup_free_ char *store = xstrdup(bundle);
        for (int k = 0; k < 2; k++) {
                char *sl = strrchr(store, '/');
                if (sl)
                        *sl = '\0';
        }
        _cleanup_close_ int lock = -1;
        husk_error_t lerr = { 0 };
        /* Without the lock DEL still runs: host-local and iptables have their own locks. */
        (void)net_lock(store, &lock, &lerr);
        /* The netns file may be gone already (an earlier, interrupted teardown): plugins then
         * release what is not inside the namespace (CNI spec: DEL with a missing netns). */
        struct stat sb;
        bool have_ns = fstatat(dirfd, "netns", &sb, AT_SYMLINK_NOFOLLOW) == 0;
        r = net_cni_del(&c, id, have_ns ? netns : "", NET_IFNAME, result, st.ports, st.n_ports, err);
        net_state_done(&st);
        net_conflist_done(&c);
        if (r == 0 && unlinkat(dirfd, "cni.conflist", 0) < 0 && errno != ENOENT)
                r = util_syserr(err, errno, "remove %s/cni.conflist", bundle);
        return r;
}

int net_container_teardown(int dirfd, const char *bundle, const char *id, husk_error_t *err)
{
        _cleanup_free_ char *netns = xasprintf("%s/netns", bundle);
        husk_error_t e2 = { 0 };
        net_pasta_stop(dirfd);
        int r = cni_detach(dirfd, bundle, id, netns, err);
        /* Always: the namespace goes even when a plugin failed (its veth goes with it). */
        int r2 = net_netns_remove(dirfd, "netns", netns, r < 0 ? &e2 : err);
        if (r < 0) {
                husk_error_prefix(err, "network teardown of %s", id);
                return r;
        }
        return r2;
}
