/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: the readers of husk's own records, which a crash or a full disk may leave
 * half-written and which an attacker with write access to the store may forge. The first byte
 * of the input chooses the reader, the rest is the file:
 *   s  state.json (state_load); what loads is saved and loaded again: the same state
 *   v  service.json (svc_record_load)
 *   x  config.json, monitor.json, exit.json and network.json of a service (svc_info_load, with a
 *      fixed service.json whose state root does not exist)
 *   n  network.json (net_state_parse); written back and parsed again: the same text
 *   c  a network's conflist (net_conflist_parse, then each plugin's stdin)
 *   r  a CNI plugin result (net_result_parse)
 *   e  a failed plugin's stdout (net_cni_error_text)
 *   l  a log record line (svc_log_parse)
 *   any other byte: the whole input to the JSON reader (json_parse), written back compactly and
 *   parsed again: the same text. */
#include "fuzz.h"

#include "husk/service.h"
#include "net/net.h"
#include "service/service.h"
#include "state/state.h"
#include "util/json.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int workdir(const char *name)
{
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", fuzz_root(), name);
        fuzz_rm_rf(dir);
        if (mkdir(dir, 0700) < 0)
                fuzz_fail("mkdir %s", dir);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                fuzz_fail("open %s", dir);
        return fd;
}

static void state_round_trip(const char *text, size_t len)
{
        int a = workdir("state-a"), b = workdir("state-b");
        fuzz_write_file(a, STATE_FILE_NAME, text, len);
        husk_state *s = NULL, *again = NULL;
        husk_error_t err = { 0 };
        if (state_load(a, &s, &err) == 0) {
                char *j1 = state_to_json(s, HUSK_STATUS_STOPPED, false);
                if (state_save(b, s, &err) == 0) {
                        if (state_load(b, &again, &err) < 0)
                                fuzz_fail("saved state does not load: %s", err.msg);
                        char *j2 = state_to_json(again, HUSK_STATUS_STOPPED, false);
                        if (strcmp(j1, j2) != 0)
                                fuzz_fail("state changed by save+load:\n%s\n%s", j1, j2);
                        free(j2);
                        state_free(again);
                }
                free(j1);
                state_free(s);
        }
        close(a);
        close(b);
}

static void service_record(const char *text, size_t len)
{
        int d = workdir("svc");
        fuzz_write_file(d, SVC_FILE, text, len);
        husk_service_info_t i;
        husk_error_t err = { 0 };
        if (svc_record_load(d, "/nonexistent-store", "fuzz", &i, &err) == 0)
                husk_service_info_done(&i);
        close(d);
}

static void service_info(const char *text, size_t len)
{
        int d = workdir("svcinfo");
        char rec[4200];
        int n = snprintf(rec, sizeof(rec), "{\"root\":\"%s/no-state-root\",\"restart\":\"always\"}",
                         fuzz_root());
        fuzz_write_file(d, SVC_FILE, rec, (size_t)n);
        fuzz_write_file(d, "config.json", text, len);
        fuzz_write_file(d, SVC_MONITOR_FILE, text, len);
        fuzz_write_file(d, SVC_EXIT_FILE, text, len);
        fuzz_write_file(d, "network.json", text, len);
        husk_service_info_t i;
        husk_error_t err = { 0 };
        if (svc_info_load(d, "/nonexistent-store", "fuzz", &i, &err) == 0) {
                char buf[256];
                svc_status_text(&i, 1700000000000000000LL, buf, sizeof(buf));
                husk_service_info_done(&i);
        }
        char **args = svc_config_args(d);
        strv_free(args);
        close(d);
}

static void net_state(const char *text, size_t len)
{
        net_state_t s;
        if (net_state_parse(text, len, &s) < 0)
                return;
        char *t1 = net_state_text(&s);
        net_state_t again;
        if (net_state_parse(t1, strlen(t1), &again) < 0)
                fuzz_fail("network.json written back does not parse:\n%s", t1);
        char *t2 = net_state_text(&again);
        if (strcmp(t1, t2) != 0)
                fuzz_fail("network.json changed by a round trip:\n%s\n%s", t1, t2);
        free(t1);
        free(t2);
        net_state_done(&again);
        net_state_done(&s);
}

static void conflist(const char *text, size_t len)
{
        net_conflist_t c;
        char why[256];
        if (net_conflist_parse(text, len, &c, why, sizeof(why)) < 0)
                return;
        net_port_t port = { .host_ip = "", .host_port = 8080, .ctr_port = 80, .proto = "tcp" };
        for (size_t i = 0; i < c.plugins->n; i++) {
                char *conf = net_plugin_config(&c, i, NULL, &port, 1);
                json_value *v = NULL;
                if (json_parse(conf, strlen(conf), &v, why, sizeof(why)) < 0)
                        fuzz_fail("plugin %zu stdin is not JSON (%s):\n%s", i, why, conf);
                json_value_free(v);
                free(conf);
        }
        net_conflist_done(&c);
}

static void cni_result(const char *text, size_t len)
{
        json_value *v = NULL;
        char why[256];
        if (json_parse(text, len, &v, why, sizeof(why)) < 0)
                return;
        net_result_t r;
        if (net_result_parse(v, "eth0", &r) == 0)
                net_result_done(&r);
        json_value_free(v);
}

static void json_round_trip(const char *text, size_t len)
{
        json_value *v = NULL;
        char why[256];
        if (json_parse(text, len, &v, why, sizeof(why)) < 0)
                return;
        char *t1 = net_json_text(v);
        json_value *again = NULL;
        if (json_parse(t1, strlen(t1), &again, why, sizeof(why)) < 0)
                fuzz_fail("JSON written back does not parse (%s):\n%s", why, t1);
        char *t2 = net_json_text(again);
        if (strcmp(t1, t2) != 0)
                fuzz_fail("JSON changed by a round trip:\n%s\n%s", t1, t2);
        free(t1);
        free(t2);
        json_value_free(again);
        json_value_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size == 0)
                return 0;
        char *text = fuzz_strndup(data + 1, size - 1);
        size_t len = size - 1;
        svc_log_rec rec;
        switch (data[0]) {
        case 's': state_round_trip(text, len); break;
        case 'v': service_record(text, len); break;
        case 'x': service_info(text, len); break;
        case 'n': net_state(text, len); break;
        case 'c': conflist(text, len); break;
        case 'r': cni_result(text, len); break;
        case 'e': free(net_cni_error_text(text)); break;
        case 'l': (void)svc_log_parse(text, len, &rec); break;
        default: json_round_trip((const char *)data, size); break;
        }
        free(text);
        return 0;
}
