/* SPDX-License-Identifier: Apache-2.0 */
/* `husk network [--store DIR] ls|create|rm|inspect ...`: the CNI networks of the store. */
#include "cli.h"
#include "husk/net.h"
#include "util/util.h"

#include <string.h>

static const char summary[] =
        "Manage the CNI networks of the store (STORE/networks/NAME.conflist).\n"
        "Subcommands:\n"
        "  ls [--format table|json]                  list the networks\n"
        "  create [--subnet CIDR] [--gateway IP] [--bridge IFNAME] NAME\n"
        "                                            add a bridge network\n"
        "  inspect NAME                              print its conflist\n"
        "  rm [-f] NAME...                           remove (-f: even while containers use it)\n"
        "The store is --store, else $HUSK_STORE, else " HUSK_STORE_DEFAULT ".";

static int net_ls(cli_ctx *c, const husk_image_opts_t *o, bool json)
{
        husk_error_t err = { 0 };
        if (json) {
                _cleanup_free_ char *out = NULL;
                if (husk_network_list_json(o, &out, &err) < 0)
                        return cli_fail_err(c, &err);
                printf("%s\n", out);
                return 0;
        }
        husk_network_info_t *v = NULL;
        size_t n = 0;
        if (husk_network_list(o, &v, &n, &err) < 0)
                return cli_fail_err(c, &err);
        printf("%-20s %-15s %-18s %-15s %s\n", "NAME", "BRIDGE", "SUBNET", "GATEWAY", "CONTAINERS");
        for (size_t i = 0; i < n; i++)
                printf("%-20s %-15s %-18s %-15s %zu\n", v[i].name, v[i].bridge ? v[i].bridge : "-",
                       v[i].subnet ? v[i].subnet : "-", v[i].gateway ? v[i].gateway : "-",
                       strv_length(v[i].containers));
        husk_network_info_free(v, n);
        return 0;
}

int cmd_network(cli_ctx *c, int argc, char **argv)
{
        const char *store = NULL, *format = NULL, *subnet = NULL, *gateway = NULL, *bridge = NULL;
        bool force = false;
        /* One option table for every subcommand; each checks it got only its own below. */
        const cli_opt opts[] = {
                { "store", 0, OPT_STRING, &store, "image store (default $HUSK_STORE or " HUSK_STORE_DEFAULT ")" },
                { "format", 0, OPT_STRING, &format, "ls: table (default) or json" },
                { "subnet", 0, OPT_STRING, &subnet, "create: IPv4 subnet (default: a free 10.9x.N.0/24)" },
                { "gateway", 0, OPT_STRING, &gateway, "create: gateway address (default: the first of the subnet)" },
                { "bridge", 0, OPT_STRING, &bridge, "create: bridge interface (default: a free huskN)" },
                { "force", 'f', OPT_BOOL, &force, "rm: even while containers use it" },
                { 0 },
        };
        const cli_cmd me = { "network", cmd_network, "ls|create|rm|inspect [ARGS...]", summary };
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, &me, opts, argc, argv, &pos, &npos);
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (npos < 1)
                return cli_fail(c, "network: a subcommand is needed: ls, create, rm or inspect");
        husk_image_opts_t o = { .store = store };
        husk_error_t err = { 0 };
        const char *sub = p[0];
        bool create_opts = subnet || gateway || bridge;
        if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) {
                if (npos != 1 || create_opts || force)
                        return cli_fail(c, "network ls takes only --format table|json");
                if (format && strcmp(format, "json") != 0 && strcmp(format, "table") != 0)
                        return cli_fail(c, "network ls: invalid --format \"%s\": table or json", format);
                return net_ls(c, &o, format && strcmp(format, "json") == 0);
        }
        if (format)
                return cli_fail(c, "network %s: --format is an option of ls", sub);
        if (strcmp(sub, "create") == 0) {
                if (npos != 2 || force)
                        return cli_fail(c, "network create takes one NAME (and --subnet, --gateway, --bridge)");
                husk_network_create_opts_t co = { .name = p[1], .subnet = subnet,
                                                   .gateway = gateway, .bridge = bridge };
                husk_network_info_t *info = xcalloc(1, sizeof(*info));
                if (husk_network_create(&o, &co, info, &err) < 0) {
                        free(info);
                        return cli_fail_err(c, &err);
                }
                printf("%s\n", info->name);
                husk_network_info_free(info, 1);
                return 0;
        }
        if (create_opts)
                return cli_fail(c, "network %s: --subnet, --gateway and --bridge are options of create", sub);
        if (strcmp(sub, "inspect") == 0) {
                if (npos != 2 || force)
                        return cli_fail(c, "network inspect takes one NAME");
                _cleanup_free_ char *out = NULL;
                if (husk_network_inspect(&o, p[1], &out, &err) < 0)
                        return cli_fail_err(c, &err);
                fputs(out, stdout);
                return 0;
        }
        if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0) {
                if (npos < 2)
                        return cli_fail(c, "network rm needs a NAME");
                int rc = 0;
                for (int i = 1; i < npos; i++) {
                        if (husk_network_rm(&o, p[i], force, &err) < 0) {
                                rc = cli_fail_err(c, &err);
                                husk_error_clear(&err);
                                continue;
                        }
                        printf("%s\n", p[i]);
                }
                return rc;
        }
        return cli_fail(c, "network: unknown subcommand \"%s\" (ls, create, rm, inspect)", sub);
}
