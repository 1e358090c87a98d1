/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the network module's pure planning (src/libhusk/net/plan.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net/net.h"

#include <string.h>

static void test_port(void **state)
{
        (void)state;
        net_port_t p;
        const char *why = NULL;
        assert_int_equal(net_parse_port("8080:80", &p, &why), 0);
        assert_string_equal(p.host_ip, "");
        assert_int_equal(p.host_port, 8080);
        assert_int_equal(p.ctr_port, 80);
        assert_string_equal(p.proto, "tcp");
        assert_int_equal(net_parse_port("127.0.0.1:53:5353/udp", &p, &why), 0);
        assert_string_equal(p.host_ip, "127.0.0.1");
        assert_int_equal(p.host_port, 53);
        assert_int_equal(p.ctr_port, 5353);
        assert_string_equal(p.proto, "udp");
        assert_int_equal(net_parse_port("0.0.0.0:8082:82", &p, &why), 0);
        assert_string_equal(p.host_ip, ""); /* every address */
        assert_int_equal(net_parse_port(":8081:81/tcp", &p, &why), 0);
        assert_string_equal(p.host_ip, "");
        assert_int_equal(p.host_port, 8081);
        static const char *const bad[] = { "80", "", ":80", "8080:", "0:80", "65536:80", "80:0",
                                           "8080:80/sctp", "8080:80/", "a:80", "80:b", "+80:80",
                                           "1.2.3:80:80", "300.1.1.1:80:80", "::1:80:80",
                                           "1.2.3.4:80:80:90", "8080:80x", "123456:80",
                                           "08080:80x" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                why = NULL;
                assert_int_equal(net_parse_port(bad[i], &p, &why), -EINVAL);
                assert_non_null(why);
        }
}

static void test_port_conflict(void **state)
{
        (void)state;
        net_port_t a, b;
        const char *why;
        assert_int_equal(net_parse_port("8080:80", &a, &why), 0);
        assert_int_equal(net_parse_port("127.0.0.1:8080:81", &b, &why), 0);
        assert_true(net_port_conflict(&a, &b)); /* all addresses vs one */
        assert_int_equal(net_parse_port("8080:80/udp", &b, &why), 0);
        assert_false(net_port_conflict(&a, &b)); /* another protocol */
        assert_int_equal(net_parse_port("127.0.0.1:9000:80", &a, &why), 0);
        assert_int_equal(net_parse_port("127.0.0.2:9000:80", &b, &why), 0);
        assert_false(net_port_conflict(&a, &b)); /* two addresses */
        assert_int_equal(net_parse_port("127.0.0.1:9000:81", &b, &why), 0);
        assert_true(net_port_conflict(&a, &b));
}

static void test_ipv4_cidr(void **state)
{
        (void)state;
        uint32_t a = 0;
        char buf[16];
        assert_int_equal(net_parse_ipv4("10.89.0.1", &a), 0);
        assert_int_equal(a, 0x0a590001);
        net_format_ipv4(a, buf);
        assert_string_equal(buf, "10.89.0.1");
        static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
                                           "1.2.3.4 ", "1..2.3", "-1.2.3.4", "1.2.3.4/8", "1234.1.1.1" };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(net_parse_ipv4(bad[i], &a), -EINVAL);
        net_cidr_t c, d;
        bool hb = true;
        assert_int_equal(net_parse_cidr("10.89.0.0/16", &c, &hb), 0);
        assert_false(hb);
        assert_int_equal(c.prefix, 16);
        assert_int_equal(net_parse_cidr("10.89.100.7/24", &d, &hb), 0);
        assert_true(hb);
        _cleanup_free_ char *s = net_format_cidr(&d);
        assert_string_equal(s, "10.89.100.0/24");
        assert_int_equal(net_parse_cidr("10.0.0.0/33", &d, NULL), -EINVAL);
        assert_int_equal(net_parse_cidr("10.0.0.0", &d, NULL), -EINVAL);
        assert_int_equal(net_parse_cidr("10.0.0.0/", &d, NULL), -EINVAL);
        assert_int_equal(net_parse_cidr("10.0.0.0/-1", &d, NULL), -EINVAL);
}

static void test_overlap(void **state)
{
        (void)state;
        net_cidr_t a, b;
        assert_int_equal(net_parse_cidr("10.89.0.0/16", &a, NULL), 0);
        assert_int_equal(net_parse_cidr("10.89.100.0/24", &b, NULL), 0);
        assert_true(net_cidr_overlap(&a, &b));
        assert_true(net_cidr_overlap(&b, &a));
        assert_int_equal(net_parse_cidr("10.90.0.0/24", &b, NULL), 0);
        assert_false(net_cidr_overlap(&a, &b));
        assert_int_equal(net_parse_cidr("10.88.255.0/24", &b, NULL), 0);
        assert_false(net_cidr_overlap(&a, &b));
        assert_int_equal(net_parse_cidr("0.0.0.0/0", &b, NULL), 0);
        assert_true(net_cidr_overlap(&a, &b));
        assert_int_equal(net_parse_cidr("10.89.255.255/32", &b, NULL), 0);
        assert_true(net_cidr_overlap(&a, &b));
        uint32_t ip;
        assert_int_equal(net_parse_ipv4("10.89.3.4", &ip), 0);
        assert_true(net_cidr_contains(&a, ip));
        assert_int_equal(net_parse_ipv4("10.90.3.4", &ip), 0);
        assert_false(net_cidr_contains(&a, ip));
}

static void test_names(void **state)
{
        (void)state;
        assert_true(net_name_valid("husk"));
        assert_true(net_name_valid("net-test_1.a"));
        assert_false(net_name_valid(""));
        assert_false(net_name_valid("-x"));
        assert_false(net_name_valid("a/b"));
        assert_false(net_name_valid("../x"));
        assert_false(net_name_valid("none"));
        assert_false(net_name_valid("host"));
        assert_false(net_name_valid("bridge"));
        char longname[70];
        memset(longname, 'a', 65);
        longname[65] = '\0';
        assert_false(net_name_valid(longname));
        assert_true(net_ifname_valid("husk0"));
        assert_true(net_ifname_valid("abcdefghijklmno"));
        assert_false(net_ifname_valid("abcdefghijklmnop"));
        assert_false(net_ifname_valid("a b"));
        assert_false(net_ifname_valid("a/b"));
        assert_false(net_ifname_valid(".."));
        assert_false(net_ifname_valid(""));
}

static void test_conflist(void **state)
{
        (void)state;
        _cleanup_free_ char *t = net_conflist_text("husk", "husk0", "10.89.0.0/16", "10.89.0.1",
                                                   "/run/husk-ipam");
        net_conflist_t c;
        char eb[128];
        assert_int_equal(net_conflist_parse(t, strlen(t), &c, eb, sizeof(eb)), 0);
        assert_string_equal(c.name, "husk");
        assert_string_equal(c.cni_version, "1.0.0");
        assert_string_equal(c.bridge, "husk0");
        assert_string_equal(c.subnet, "10.89.0.0/16");
        assert_string_equal(c.gateway, "10.89.0.1");
        assert_int_equal(c.plugins->n, 4);
        static const char *const types[] = { "bridge", "portmap", "firewall", "tuning" };
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(json_get_str(c.plugins->items[i], "type"), types[i]);
        const json_value *b = c.plugins->items[0];
        assert_true(json_get(b, "isGateway")->boolean);
        assert_true(json_get(b, "ipMasq")->boolean);
        assert_string_equal(json_get_str(json_get(b, "ipam"), "dataDir"), "/run/husk-ipam");
        net_conflist_done(&c);
        /* Shapes that are refused, each with a reason. */
        static const char *const bad[] = {
                "[]", "{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"bridge\"}]}",
                "{\"name\":\"x\",\"plugins\":[{\"type\":\"bridge\"}]}",
                "{\"name\":\"x\",\"cniVersion\":\"1.0.0\",\"plugins\":[]}",
                "{\"name\":\"x\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"bridge\":\"b\"}]}",
                "{\"name\":\"x\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"../../bin/sh\"}]}",
                "{\"name\":\"x\",\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"..\"}]}",
                "{\"name\":", };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                eb[0] = '\0';
                assert_int_equal(net_conflist_parse(bad[i], strlen(bad[i]), &c, eb, sizeof(eb)),
                                 -EINVAL);
                assert_true(eb[0] != '\0');
        }
        /* The older ipam "subnet" form is summarised too. */
        const char *old = "{\"name\":\"o\",\"cniVersion\":\"0.4.0\",\"plugins\":[{\"type\":"
                          "\"bridge\",\"bridge\":\"br9\",\"ipam\":{\"type\":\"host-local\","
                          "\"subnet\":\"10.1.0.0/24\"}}]}";
        assert_int_equal(net_conflist_parse(old, strlen(old), &c, eb, sizeof(eb)), 0);
        assert_string_equal(c.subnet, "10.1.0.0/24");
        assert_null(c.gateway);
        assert_string_equal(c.bridge, "br9");
        net_conflist_done(&c);
}

static void test_plugin_config(void **state)
{
        (void)state;
        const char *list = "{\"name\":\"n1\",\"cniVersion\":\"1.0.0\",\"plugins\":["
                           "{\"type\":\"bridge\",\"name\":\"ignored\",\"mtu\":1400,\"x\":[1.5,null,"
                           "\"q\\\"\"]},"
                           "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}";
        net_conflist_t c;
        char eb[128];
        assert_int_equal(net_conflist_parse(list, strlen(list), &c, eb, sizeof(eb)), 0);
        _cleanup_free_ char *p0 = net_plugin_config(&c, 0, NULL, NULL, 0);
        assert_string_equal(p0, "{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"type\":\"bridge\","
                                "\"mtu\":1400,\"x\":[1.5,null,\"q\\\"\"]}");
        json_value *prev = NULL;
        const char *res = "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2/24\"}]}";
        assert_int_equal(json_parse(res, strlen(res), &prev, eb, sizeof(eb)), 0);
        net_port_t ports[2];
        const char *why;
        assert_int_equal(net_parse_port("8080:80", &ports[0], &why), 0);
        assert_int_equal(net_parse_port("127.0.0.1:53:53/udp", &ports[1], &why), 0);
        _cleanup_free_ char *p1 = net_plugin_config(&c, 1, prev, ports, 2);
        assert_string_equal(p1, "{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"type\":\"portmap\","
                                "\"capabilities\":{\"portMappings\":true},\"prevResult\":"
                                "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.2/24\"}]},"
                                "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,"
                                "\"containerPort\":80,\"protocol\":\"tcp\"},{\"hostPort\":53,"
                                "\"containerPort\":53,\"protocol\":\"udp\",\"hostIP\":\"127.0.0.1\"}]}}");
        /* The output is JSON again. */
        json_value *back = NULL;
        assert_int_equal(json_parse(p1, strlen(p1), &back, eb, sizeof(eb)), 0);
        json_value_free(back);
        json_value_free(prev);
        net_conflist_done(&c);
}

static void test_result(void **state)
{
        (void)state;
        /* bridge + portmap result as the plugins print it (CNI 1.0.0). */
        const char *res =
                "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"husk0\",\"mac\":\"aa:aa:aa:aa:aa:aa\"},"
                "{\"name\":\"veth1\",\"mac\":\"bb:bb:bb:bb:bb:bb\"},{\"name\":\"eth0\",\"mac\":"
                "\"02:42:0a:59:00:05\",\"sandbox\":\"/x/netns\"}],\"ips\":[{\"interface\":2,"
                "\"address\":\"10.89.0.5/16\",\"gateway\":\"10.89.0.1\"},{\"interface\":0,"
                "\"address\":\"10.89.0.1/16\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}";
        json_value *v = NULL;
        char eb[64];
        assert_int_equal(json_parse(res, strlen(res), &v, eb, sizeof(eb)), 0);
        net_result_t r;
        assert_int_equal(net_result_parse(v, "eth0", &r), 0);
        assert_int_equal(strv_length(r.ips), 1);
        assert_string_equal(r.ips[0], "10.89.0.5/16");
        assert_string_equal(r.gateway, "10.89.0.1");
        assert_string_equal(r.mac, "02:42:0a:59:00:05");
        net_result_done(&r);
        /* Another interface name: nothing of eth0's. */
        assert_int_equal(net_result_parse(v, "eth1", &r), 0);
        assert_int_equal(strv_length(r.ips), 0);
        assert_null(r.mac);
        net_result_done(&r);
        json_value_free(v);
        /* A plugin error text. */
        _cleanup_free_ char *e1 = net_cni_error_text("{\"code\":7,\"msg\":\"failed to allocate\","
                                                     "\"details\":\"range full\"}");
        assert_string_equal(e1, "failed to allocate (range full)");
        _cleanup_free_ char *e2 = net_cni_error_text("{\"code\":11}");
        assert_string_equal(e2, "error code 11");
        assert_null(net_cni_error_text("not json"));
}

static void test_etc_files(void **state)
{
        (void)state;
        _cleanup_free_ char *h = net_hosts_text("web", "10.89.0.5/16", "10.89.0.1", NULL);
        assert_string_equal(h, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                               "10.89.0.5\tweb\n10.89.0.1\thost.husk.internal\n");
        _cleanup_free_ char *h2 = net_hosts_text("c1", NULL, NULL, "10.0.0.9 myhost");
        assert_string_equal(h2, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                                "10.0.0.9 myhost\n127.0.1.1\tc1\n");
        const char *host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
                           "nameserver ::1\nnameserver\t127.0.0.1 # local\nsearch example.org\n"
                           "options edns0";
        _cleanup_free_ char *r1 = net_resolv_text(host, false, true);
        assert_string_equal(r1, "# generated\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n");
        _cleanup_free_ char *r2 = net_resolv_text(host, true, true);
        assert_string_equal(r2, "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
                                "nameserver ::1\nnameserver\t127.0.0.1 # local\nsearch example.org\n"
                                "options edns0\n");
        _cleanup_free_ char *r3 = net_resolv_text("nameserver 127.0.0.53\nsearch x\n", false, true);
        assert_string_equal(r3, "search x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        _cleanup_free_ char *r4 = net_resolv_text("nameserver 127.0.0.53\n", false, false);
        assert_string_equal(r4, "");
        _cleanup_free_ char *r5 = net_resolv_text(NULL, false, false);
        assert_string_equal(r5, "");
}

static void test_state(void **state)
{
        (void)state;
        char *ips[] = { "10.89.0.5/16", NULL };
        net_port_t ports[1];
        const char *why;
        assert_int_equal(net_parse_port("8080:80", &ports[0], &why), 0);
        net_state_t s = { .network = "husk", .netns = "/s/containers/a/netns", .interface = "eth0",
                          .ips = ips, .gateway = "10.89.0.1", .mac = "02:00:00:00:00:01",
                          .ports = ports, .n_ports = 1 };
        _cleanup_free_ char *t = net_state_text(&s);
        /* The exact shape the service helper reads. */
        assert_string_equal(t, "{\"network\":\"husk\",\"netns\":\"/s/containers/a/netns\","
                               "\"interface\":\"eth0\",\"ips\":[\"10.89.0.5/16\"],\"gateway\":"
                               "\"10.89.0.1\",\"mac\":\"02:00:00:00:00:01\",\"ports\":[{\"hostIP\":"
                               "\"\",\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]}\n");
        net_state_t b;
        assert_int_equal(net_state_parse(t, strlen(t), &b), 0);
        assert_string_equal(b.network, "husk");
        assert_string_equal(b.ips[0], "10.89.0.5/16");
        assert_int_equal(b.n_ports, 1);
        assert_int_equal(b.ports[0].host_port, 8080);
        assert_true(net_port_conflict(&b.ports[0], &ports[0]));
        net_state_done(&b);
        const char *bad = "{\"network\":\"x\",\"ports\":[{\"hostPort\":70000,\"containerPort\":1,"
                          "\"protocol\":\"tcp\"}]}";
        assert_int_equal(net_state_parse(bad, strlen(bad), &b), -EINVAL);
        assert_int_equal(net_state_parse("{}", 2, &b), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_port),      cmocka_unit_test(test_port_conflict),
                cmocka_unit_test(test_ipv4_cidr), cmocka_unit_test(test_overlap),
                cmocka_unit_test(test_names),     cmocka_unit_test(test_conflist),
                cmocka_unit_test(test_plugin_config), cmocka_unit_test(test_result),
                cmocka_unit_test(test_etc_files), cmocka_unit_test(test_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
