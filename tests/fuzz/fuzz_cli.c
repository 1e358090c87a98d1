/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: command-line parsing. The input is an argv, its arguments separated by NUL bytes
 * (argv[0] is the command name). It goes through cli_parse with an option table of every type
 * (as `husk create` and `husk run` declare theirs) and cli_want_args; then every argument goes to
 * the option-value parsers: signals (kill, --stop-signal), exec --user, --restart, --log-max-size,
 * logs --since, -p ports, network create --subnet, and addresses. Round trips are checked: what
 * a parser accepts and husk writes back parses to the same value. */
#include "fuzz.h"

#include "../../src/cli/cli.h"
#include "config/oci_config.h"
#include "net/net.h"
#include "process/process.h"
#include "service/service.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

static int run_none(cli_ctx *c, int argc, char **argv)
{
        return 0;
}

static const cli_cmd fuzz_cmd = { "create", run_none, "CONTAINER_ID", "fuzz" };

/* options.c reports usage errors with the command's usage line. */
const cli_cmd *cli_find_command(const char *name)
{
        return &fuzz_cmd;
}

static void parse_argv(char **argv, int argc)
{
        const char *bundle = NULL, *pidfile = NULL, *console = NULL;
        unsigned fds = 0;
        bool detach = false, nopivot = false, rm = false;
        const cli_opt opts[] = {
                { "bundle", 'b', OPT_STRING, &bundle, "" },
                { "pid-file", 0, OPT_STRING, &pidfile, "" },
                { "console-socket", 0, OPT_STRING, &console, "" },
                { "preserve-fds", 0, OPT_UINT, &fds, "" },
                { "detach", 'd', OPT_BOOL, &detach, "" },
                { "no-pivot", 0, OPT_BOOL, &nopivot, "" },
                { "rm", 0, OPT_BOOL, &rm, "" },
                { 0 },
        };
        cli_ctx c = { .command = "create" };
        char **pos = NULL;
        int npos = 0;
        if (cli_parse(&c, &fuzz_cmd, opts, argc, argv, &pos, &npos) == 0) {
                if (npos < 0 || npos >= argc)
                        fuzz_fail("cli_parse: %d positionals from %d arguments", npos, argc);
                for (int i = 0; i < npos; i++)
                        if (!pos[i])
                                fuzz_fail("cli_parse: positional %d is NULL", i);
                (void)cli_want_args(&c, npos, 1, 1);
                free(pos);
        }
}

static void parse_values(const char *s)
{
        int sig = -1;
        if (cli_parse_signal(s, &sig) == 0 && (sig < 0 || sig >= 65))
                fuzz_fail("signal '%s' -> %d", s, sig);
        (void)svc_signal_parse(s, &sig);

        config_user u = { 0 };
        husk_error_t err = { 0 };
        if (exec_parse_user(s, &u, &err) == 0)
                free(u.additional_gids);

        svc_policy p = { 0 };
        if (svc_policy_parse(s, &p, &err) == 0)
                (void)svc_policy_name(&p);

        uint64_t size = 0;
        (void)svc_size_parse(s, &size);
        int64_t ns = 0;
        /* Round trip within the years the format writes with four digits (1970..9999). */
        if (svc_time_parse(s, &ns) == 0 && ns >= 0 && ns / 1000000000 < 253402300799LL) {
                char buf[64];
                svc_time_format(ns, buf, sizeof(buf));
                int64_t again = 0;
                if (svc_time_parse(buf, &again) < 0 || again != ns)
                        fuzz_fail("time '%s' -> %lld -> '%s' does not parse back", s, (long long)ns,
                                  buf);
        }
        (void)svc_since_parse(s, 1700000000000000000LL, &ns);

        net_port_t port;
        const char *why = NULL;
        if (net_parse_port(s, &port, &why) == 0)
                free(svc_port_text(s));
        uint32_t ip = 0;
        if (net_parse_ipv4(s, &ip) == 0) {
                char buf[16];
                net_format_ipv4(ip, buf);
                if (strcmp(buf, s) != 0)
                        fuzz_fail("ipv4 '%s' formats as '%s'", s, buf);
        }
        net_cidr_t cidr;
        bool host_bits = false;
        if (net_parse_cidr(s, &cidr, &host_bits) == 0) {
                char *t = net_format_cidr(&cidr);
                net_cidr_t again;
                if (net_parse_cidr(t, &again, &host_bits) < 0 || host_bits ||
                    memcmp(&again, &cidr, sizeof(cidr)) != 0)
                        fuzz_fail("cidr '%s' formats as '%s', which does not parse back", s, t);
                free(t);
        }
        (void)net_name_valid(s);
        (void)net_ifname_valid(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = fuzz_strndup(data, size);
        char *argv[MAX_ARGS + 1];
        int argc = 0;
        for (size_t i = 0; argc < MAX_ARGS && i <= size;) {
                argv[argc++] = buf + i;
                i += strlen(buf + i) + 1;
        }
        argv[argc] = NULL;
        parse_argv(argv, argc);
        for (int i = 0; i < argc; i++)
                parse_values(argv[i]);
        free(buf);
        return 0;
}
