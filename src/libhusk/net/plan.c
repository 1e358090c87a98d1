/* SPDX-License-Identifier: Apache-2.0 */
/* Network planning, pure: no syscalls, unit tested (tests/unit/test_net.c). Port specs,
 * network configs and CNI results are user or plugin input: every field is checked. */
#include "net/net.h"

#include <ctype.h>
#include <string.h>

/* ---- ports ---- */

static int parse_port_number(const char *s, size_t len, uint16_t *ret)
{
        char buf[8];
        uint32_t v = 0;
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (!isdigit((unsigned char)buf[i]))
                        return -EINVAL;
        if (parse_uint32(buf, &v) < 0 || v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t)v;
        return 0;
}

int net_parse_port(const char *spec, net_port_t *ret, const char **ret_reason)
{
        net_port_t p = { .proto = "tcp" };
        const char *slash = strchr(spec, '/');
        size_t len = slash ? (size_t)(slash - spec) : strlen(spec);
        if (slash) {
                if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0) {
                        *ret_reason = "the protocol must be tcp or udp";
                        return -EINVAL;
                }
                snprintf(p.proto, sizeof(p.proto), "%s", slash + 1);
        }
        const char *c1 = memchr(spec, ':', len);
        if (!c1) {
                *ret_reason = "expected [HOSTIP:]HOSTPORT:CTRPORT (a host port is required)";
                return -EINVAL;
        }
        const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - spec));
        const char *hp = spec, *cp = c1 + 1;
        if (c2) {
                if (memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - spec)) || c1 - spec >= 16) {
                        *ret_reason = "the host address must be IPv4 (IPv6 is not supported)";
                        return -EINVAL;
                }
                memcpy(p.host_ip, spec, (size_t)(c1 - spec));
                p.host_ip[c1 - spec] = '\0';
                uint32_t a = 0;
                if (p.host_ip[0] && net_parse_ipv4(p.host_ip, &a) < 0) {
                        *ret_reason = "invalid host address";
                        return -EINVAL;
                }
                if (p.host_ip[0] && a == 0)
                        p.host_ip[0] = '\0'; /* 0.0.0.0: every address, as "" */
                hp = c1 + 1;
                cp = c2 + 1;
        }
        const char *hend = c2 ? c2 : c1;
        if (parse_port_number(hp, (size_t)(hend - hp), &p.host_port) < 0) {
                *ret_reason = "the host port must be a number from 1 to 65535";
                return -EINVAL;
        }
        if (parse_port_number(cp, (size_t)(spec + len - cp), &p.ctr_port) < 0) {
                *ret_reason = "the container port must be a number from 1 to 65535";
                return -EINVAL;
        }
        *ret = p;
        return 0;
}

bool net_port_conflict(const net_port_t *a, const net_port_t *b)
{
        return a->host_port == b->host_port && strcmp(a->proto, b->proto) == 0 &&
               (!a->host_ip[0] || !b->host_ip[0] || strcmp(a->host_ip, b->host_ip) == 0);
}

/* ---- IPv4 ---- */

int net_parse_ipv4(const char *s, uint32_t *ret)
{
        uint32_t a = 0;
        for (int part = 0; part < 4; part++) {
                if (!isdigit((unsigned char)*s))
                        return -EINVAL;
                unsigned v = 0, n = 0;
                const char *start = s;
                while (isdigit((unsigned char)*s) && n < 4) {
                        v = v * 10 + (unsigned)(*s++ - '0');
                        n++;
                }
                if (v > 255 || n > 3 || (n > 1 && *start == '0'))
                        return -EINVAL;
                a = (a << 8) | v;
                if (part < 3 && *s++ != '.')
                        return -EINVAL;
        }
        if (*s)
                return -EINVAL;
        *ret = a;
        return 0;
}

void net_format_ipv4(uint32_t a, char buf[16])
{
        snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static uint32_t prefix_mask(unsigned prefix)
{
        return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int net_parse_cidr(const char *s, net_cidr_t *ret, bool *ret_host_bits)
{
        const char *slash = strchr(s, '/');
        char ip[16];
        uint32_t a = 0, prefix = 0;
        if (!slash || slash - s >= (ptrdiff_t)sizeof(ip) || !isdigit((unsigned char)slash[1]) ||
            strlen(slash + 1) > 2)
                return -EINVAL;
        memcpy(ip, s, (size_t)(slash - s));
        ip[slash - s] = '\0';
        if (net_parse_ipv4(ip, &a) < 0 || parse_uint32(slash + 1, &prefix) < 0 || prefix > 32)
                return -EINVAL;
        uint32_t m = prefix_mask(prefix);
        if (ret_host_bits)
                *ret_host_bits = (a & ~m) != 0;
        *ret = (net_cidr_t){ .addr = a & m, .prefix = prefix };
        return 0;
}

char *net_format_cidr(const net_cidr_t *c)
{
        char ip[16];
        net_format_ipv4(c->addr, ip);
        return xasprintf("%s/%u", ip, c->prefix);
}

bool net_cidr_contains(const net_cidr_t *c, uint32_t ip)
{
        return (ip & prefix_mask(c->prefix)) == c->addr;
}

bool net_cidr_overlap(const net_cidr_t *a, const net_cidr_t *b)
{
        unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
        return (a->addr & prefix_mask(p)) == (b->addr & prefix_mask(p));
}

/* ---- names ---- */

bool net_name_valid(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > 64 || !isalnum((unsigned char)name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
                        return false;
        return strcmp(name, "none") != 0 && strcmp(name, "host") != 0 &&
               strcmp(name, "bridge") != 0;
}

bool net_ifname_valid(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (name[i] == '/' || name[i] == ':' || isspace((unsigned char)name[i]) ||
                    !isprint((unsigned char)name[i]))
                        return false;
        return true;
}

/* ---- conflists ---- */

char *net_conflist_text(const char *name, const char *bridge, const char *subnet,
                        const char *gateway, const char *ipam_dir)
{
        json_writer *w = json_writer_new(true);
        json_obj_begin(w);
        json_kv_str(w, "cniVersion", NET_CNI_VERSION);
        json_kv_str(w, "name", name);
        json_key(w, "plugins");
        json_arr_begin(w);
        json_obj_begin(w);
        json_kv_str(w, "type", "bridge");
        json_kv_str(w, "bridge", bridge);
        json_kv_bool(w, "isGateway", true);
        json_kv_bool(w, "ipMasq", true);
        json_kv_bool(w, "hairpinMode", true);
        json_key(w, "ipam");
        json_obj_begin(w);
        json_kv_str(w, "type", "host-local");
        json_key(w, "routes");
        json_arr_begin(w);
        json_obj_begin(w);
        json_kv_str(w, "dst", "0.0.0.0/0");
        json_obj_end(w);
        json_arr_end(w);
        json_key(w, "ranges");
        json_arr_begin(w);
        json_arr_begin(w);
        json_obj_begin(w);
        json_kv_str(w, "subnet", subnet);
        json_kv_str(w, "gateway", gateway);
        json_obj_end(w);
        json_arr_end(w);
        json_arr_end(w);
        json_kv_str(w, "dataDir", ipam_dir);
        json_obj_end(w);
        json_obj_end(w);
        json_obj_begin(w);
        json_kv_str(w, "type", "portmap");
        json_key(w, "capabilities");
        json_obj_begin(w);
        json_kv_bool(w, "portMappings", true);
        json_obj_end(w);
        json_obj_end(w);
        json_obj_begin(w);
        json_kv_str(w, "type", "firewall");
        json_obj_end(w);
        json_obj_begin(w);
        json_kv_str(w, "type", "tuning");
        json_obj_end(w);
        json_arr_end(w);
        json_obj_end(w);
        char *s = json_writer_finish(w);
        char *r = xasprintf("%s\n", s);
        free(s);
        return r;
}

static const json_value *get_typed(const json_value *v, const char *key, json_type t)
{
        const json_value *x = json_get(v, key);
        return x && x->type == t ? x : NULL;
}

/* The bridge, subnet and gateway of a plugin (the first range of host-local's ranges, or the
 * older "subnet" form). */
static void summary_of(net_conflist_t *c, const json_value *plugin)
{
        const json_value *ipam = get_typed(plugin, "ipam", JSON_OBJECT);
        if (!c->bridge)
                c->bridge = json_get_str(plugin, "bridge");
        if (!ipam || c->subnet)
                return;
        const json_value *ranges = get_typed(ipam, "ranges", JSON_ARRAY);
        if (ranges && ranges->n > 0 && ranges->items[0]->type == JSON_ARRAY &&
            ranges->items[0]->n > 0) {
                const json_value *r0 = ranges->items[0]->items[0];
                c->subnet = json_get_str(r0, "subnet");
                c->gateway = json_get_str(r0, "gateway");
        } else {
                c->subnet = json_get_str(ipam, "subnet");
                c->gateway = json_get_str(ipam, "gateway");
        }
}

int net_conflist_parse(const char *text, size_t len, net_conflist_t *ret, char *errbuf,
                       size_t errlen)
{
        net_conflist_t c = { 0 };
        if (json_parse(text, len, &c.root, errbuf, errlen) < 0)
                return -EINVAL;
        const char *why = NULL;
        c.name = json_get_str(c.root, "name");
        c.cni_version = json_get_str(c.root, "cniVersion");
        c.plugins = get_typed(c.root, "plugins", JSON_ARRAY);
        if (c.root->type != JSON_OBJECT)
                why = "not a JSON object";
        else if (!c.name || !c.name[0])
                why = "no \"name\"";
        else if (!c.cni_version)
                why = "no \"cniVersion\"";
        else if (!c.plugins || c.plugins->n == 0)
                why = "no \"plugins\" list";
        for (size_t i = 0; !why && i < c.plugins->n; i++) {
                const json_value *p = c.plugins->items[i];
                const char *type = json_get_str(p, "type");
                if (p->type != JSON_OBJECT || !type)
                        why = "a plugin without \"type\"";
                else if (!net_ifname_valid(type) || type[0] == '.')
                        why = "a plugin \"type\" that is not a plain file name";
                else
                        summary_of(&c, p);
        }
        if (why) {
                if (errbuf && errlen)
                        snprintf(errbuf, errlen, "%s", why);
                json_value_free(c.root);
                return -EINVAL;
        }
        *ret = c;
        return 0;
}

void net_conflist_done(net_conflist_t *c)
{
        json_value_free(c->root);
        *c = (net_conflist_t){ 0 };
}

/* ---- JSON text of a parsed value ---- */

static void write_value(FILE *f, const json_value *v)
{
        switch (v->type) {
        case JSON_NULL:
                fputs("null", f);
                break;
        case JSON_BOOL:
                fputs(v->boolean ? "true" : "false", f);
                break;
        case JSON_NUMBER:
                fputs(v->str, f);
                break;
        case JSON_STRING: {
                _cleanup_free_ char *q = json_quote(v->str);
                fputs(q, f);
                break;
        }
        case JSON_ARRAY:
        case JSON_OBJECT:
                fputc(v->type == JSON_ARRAY ? '[' : '{', f);
                for (size_t i = 0; i < v->n; i++) {
                        if (i)
                                fputc(',', f);
                        if (v->type == JSON_OBJECT) {
                                _cleanup_free_ char *k = json_quote(v->keys[i]);
                                fprintf(f, "%s:", k);
                        }
                        write_value(f, v->items[i]);
                }
                fputc(v->type == JSON_ARRAY ? ']' : '}', f);
                break;
        }
}

static FILE *memstream(char **buf, size_t *len)
{
        FILE *f = open_memstream(buf, len);
        if (!f)
                abort(); /* only on out-of-memory, like the x* allocators */
        return f;
}

char *net_json_text(const json_value *v)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = memstream(&buf, &len);
        write_value(f, v);
        fclose(f);
        return buf;
}

static void write_ports(FILE *f, const net_port_t *ports, size_t n)
{
        fputc('[', f);
        for (size_t i = 0; i < n; i++) {
                const net_port_t *p = &ports[i];
                fprintf(f, "%s{\"hostPort\":%u,\"containerPort\":%u,\"protocol\":\"%s\"", i ? "," : "",
                        p->host_port, p->ctr_port, p->proto);
                if (p->host_ip[0])
                        fprintf(f, ",\"hostIP\":\"%s\"", p->host_ip); /* checked dotted quad */
                fputc('}', f);
        }
        fputc(']', f);
}

char *net_plugin_config(const net_conflist_t *c, size_t i, const json_value *prev,
                        const net_port_t *ports, size_t n_ports)
{
        const json_value *p = c->plugins->items[i];
        char *buf = NULL;
        size_t len = 0;
        FILE *f = memstream(&buf, &len);
        _cleanup_free_ char *name = json_quote(c->name), *ver = json_quote(c->cni_version);
        fprintf(f, "{\"cniVersion\":%s,\"name\":%s", ver, name);
        for (size_t k = 0; k < p->n; k++) {
                const char *key = p->keys[k];
                /* The runtime's to set (CNI spec, "Deriving execution configuration"). */
                if (strcmp(key, "cniVersion") == 0 || strcmp(key, "name") == 0 ||
                    strcmp(key, "prevResult") == 0 || strcmp(key, "runtimeConfig") == 0)
                        continue;
                _cleanup_free_ char *q = json_quote(key);
                fprintf(f, ",%s:", q);
                write_value(f, p->items[k]);
        }
        if (prev) {
                fputs(",\"prevResult\":", f);
                write_value(f, prev);
        }
        const json_value *caps = get_typed(p, "capabilities", JSON_OBJECT);
        const json_value *pm = caps ? get_typed(caps, "portMappings", JSON_BOOL) : NULL;
        if (pm && pm->boolean) {
                fputs(",\"runtimeConfig\":{\"portMappings\":", f);
                write_ports(f, ports, n_ports);
                fputc('}', f);
        }
        fputc('}', f);
        fclose(f);
        return buf;
}

/* ---- CNI results ---- */

int net_result_parse(const json_value *res, const char *ifname, net_result_t *ret)
{
        net_result_t r = { 0 };
        const json_value *ifs = get_typed(res, "interfaces", JSON_ARRAY);
        const json_value *ips = get_typed(res, "ips", JSON_ARRAY);
        int64_t idx = -1;
        if (!res || res->type != JSON_OBJECT)
                return -EINVAL;
        for (size_t i = 0; ifs && i < ifs->n; i++) {
                const char *name = json_get_str(ifs->items[i], "name");
                const char *sb = json_get_str(ifs->items[i], "sandbox");
                if (name && strcmp(name, ifname) == 0 && sb && sb[0]) {
                        idx = (int64_t)i;
                        const char *mac = json_get_str(ifs->items[i], "mac");
                        r.mac = mac ? xstrdup(mac) : NULL;
                        break;
                }
        }
        size_t n = 0;
        r.ips = xcalloc((ips ? ips->n : 0) + 1, sizeof(char *));
        for (size_t i = 0; ips && i < ips->n; i++) {
                const json_value *ip = ips->items[i];
                const char *addr = json_get_str(ip, "address");
                const json_value *iv = get_typed(ip, "interface", JSON_NUMBER);
                int64_t which = -1;
                if (!addr || (iv && parse_int64(iv->str, &which) < 0))
                        continue;
                /* Without an interface index the address is the container's when it has
                 * exactly one interface in the sandbox (older plugins). */
                if (iv ? which != idx : idx < 0)
                        continue;
                r.ips[n++] = xstrdup(addr);
                const char *gw = json_get_str(ip, "gateway");
                if (!r.gateway && gw)
                        r.gateway = xstrdup(gw);
        }
        *ret = r;
        return 0;
}

void net_result_done(net_result_t *r)
{
        strv_free(r->ips);
        free(r->gateway);
        free(r->mac);
        *r = (net_result_t){ 0 };
}

char *net_cni_error_text(const char *text)
{
        json_value *v = NULL;
        char eb[64];
        if (!text || json_parse(text, strlen(text), &v, eb, sizeof(eb)) < 0)
                return NULL;
        const char *msg = json_get_str(v, "msg"), *details = json_get_str(v, "details");
        const json_value *code = get_typed(v, "code", JSON_NUMBER);
        char *r = NULL;
        if (msg && details && details[0])
                r = xasprintf("%s (%s)", msg, details);
        else if (msg)
                r = xstrdup(msg);
        else if (code)
                r = xasprintf("error code %s", code->str);
        json_value_free(v);
        return r;
}

/* ---- /etc files ---- */

char *net_hosts_text(const char *hostname, const char *ip, const char *gateway,
                     const char *host_text)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = memstream(&buf, &len);
        fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", f);
        if (host_text && host_text[0]) {
                fputs(host_text, f);
                if (host_text[strlen(host_text) - 1] != '\n')
                        fputc('\n', f);
        }
        size_t iplen = ip ? strcspn(ip, "/") : 0;
        if (ip)
                fprintf(f, "%.*s\t%s\n", (int)iplen, ip, hostname);
        else
                fprintf(f, "127.0.1.1\t%s\n", hostname);
        if (gateway)
                fprintf(f, "%s\thost.husk.internal\n", gateway);
        fclose(f);
        return buf;
}

static bool local_nameserver(const char *line)
{
        const char *s = line + strlen("nameserver");
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strcspn(s, " \t\r\n#;");
        return strncmp(s, "127.", 4) == 0 || (n == 3 && strncmp(s, "::1", 3) == 0);
}

char *net_resolv_text(const char *host_text, bool keep_local, bool fallback)
{
        char *buf = NULL;
        size_t len = 0;
        bool any = false;
        FILE *f = memstream(&buf, &len);
        for (const char *l = host_text ? host_text : ""; *l;) {
                size_t n = strcspn(l, "\n");
                bool ns = strncmp(l, "nameserver", 10) == 0 && (l[10] == ' ' || l[10] == '\t');
                if (ns && !keep_local && local_nameserver(l)) {
                        /* 127.x is the host's own resolver: unreachable from a namespace. */
                } else {
                        fprintf(f, "%.*s\n", (int)n, l);
                        any = any || ns;
                }
                l += n + (l[n] == '\n');
        }
        if (!any && fallback)
                fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
        fclose(f);
        return buf;
}

/* ---- network.json ---- */

char *net_state_text(const net_state_t *s)
{
        json_writer *w = json_writer_new(false);
        json_obj_begin(w);
        json_kv_str(w, "network", s->network);
        json_kv_str(w, "netns", s->netns ? s->netns : "");
        json_kv_str(w, "interface", s->interface ? s->interface : "");
        json_key(w, "ips");
        json_arr_begin(w);
        for (size_t i = 0; s->ips && s->ips[i]; i++)
                json_str(w, s->ips[i]);
        json_arr_end(w);
        json_kv_str(w, "gateway", s->gateway ? s->gateway : "");
        json_kv_str(w, "mac", s->mac ? s->mac : "");
        json_key(w, "ports");
        json_arr_begin(w);
        for (size_t i = 0; i < s->n_ports; i++) {
                const net_port_t *p = &s->ports[i];
                json_obj_begin(w);
                json_kv_str(w, "hostIP", p->host_ip);
                json_kv_uint(w, "hostPort", p->host_port);
                json_kv_uint(w, "containerPort", p->ctr_port);
                json_kv_str(w, "protocol", p->proto);
                json_obj_end(w);
        }
        json_arr_end(w);
        json_obj_end(w);
        char *t = json_writer_finish(w);
        char *r = xasprintf("%s\n", t);
        free(t);
        return r;
}

static int state_port(const json_value *v, net_port_t *p)
{
        const char *ip = json_get_str(v, "hostIP"), *proto = json_get_str(v, "protocol");
        const json_value *hp = get_typed(v, "hostPort", JSON_NUMBER);
        const json_value *cp = get_typed(v, "containerPort", JSON_NUMBER);
        if (!hp || !cp || !proto || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) ||
            parse_port_number(hp->str, strlen(hp->str), &p->host_port) < 0 ||
            parse_port_number(cp->str, strlen(cp->str), &p->ctr_port) < 0 ||
            (ip && strlen(ip) >= sizeof(p->host_ip)))
                return -EINVAL;
        snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip ? ip : "");
        snprintf(p->proto, sizeof(p->proto), "%s", proto);
        return 0;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

int net_state_parse(const char *text, size_t len, net_state_t *ret)
{
        json_value *v = NULL;
        char eb[64];
        if (json_parse(text, len, &v, eb, sizeof(eb)) < 0)
                return -EINVAL;
        net_state_t s = { 0 };
        const json_value *ips = get_typed(v, "ips", JSON_ARRAY);
        const json_value *ports = get_typed(v, "ports", JSON_ARRAY);
        int r = 0;
        if (v->type != JSON_OBJECT || !json_get_str(v, "network")) {
                json_value_free(v);
                return -EINVAL;
        }
        s.network = xstrdup(json_get_str(v, "network"));
        s.netns = dup_or_null(json_get_str(v, "netns"));
        s.interface = dup_or_null(json_get_str(v, "interface"));
        s.gateway = dup_or_null(json_get_str(v, "gateway"));
        s.mac = dup_or_null(json_get_str(v, "mac"));
        s.ips = xcalloc((ips ? ips->n : 0) + 1, sizeof(char *));
        for (size_t i = 0, k = 0; ips && i < ips->n; i++)
                if (ips->items[i]->type == JSON_STRING)
                        s.ips[k++] = xstrdup(ips->items[i]->str);
        s.ports = xcalloc((ports ? ports->n : 0) + 1, sizeof(net_port_t));
        for (size_t i = 0; ports && i < ports->n && r == 0; i++)
                r = state_port(ports->items[i], &s.ports[s.n_ports++]);
        json_value_free(v);
        if (r < 0) {
                net_state_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

void net_state_done(net_state_t *s)
{
        free(s->network);
        free(s->netns);
        free(s->interface);
        strv_free(s->ips);
        free(s->gateway);
        free(s->mac);
        free(s->ports);
        *s = (net_state_t){ 0 };
}
