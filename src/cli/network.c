/* SPDX-License-Identifier: Apache-2.0 */
/* `husk network [--store DIR] ls|create|rm|inspect ...`: the CNI networks of the store. */
#include "cli.h"
#include "husk/net.h"
#include "util/util.h"

#include <string.h>

static const char summary[] =
        "Manage the CNI networks of the store (STORE/networks/NAME.conflist).\n\n"
        "Commands:\n"
        "  ls [--format table|json]                  list the networks\n"
        "  create [--subnet CIDR] [--gateway IP] [--bridge IFNAME] NAME\n"
        "                                            add a bridge network\n"
        "  inspect NAME                              print its conflist\n"
        "  rm [-f] NAME...                           remove (-f: even while containers use it)\n\n"
        "The store is --store, else $HUSK_STORE, else " HUSK_STORE_DEFAULT ".\n"
        "`husk network COMMAND --help` describes a command.";

/* The subcommands, for their own usage (`husk network ls --help`). */
static const cli_cmd subs[] = {
        { "network ls", NULL, "", "List the networks (alias: list)." },
        { "network create", NULL, "NAME", "Add a bridge network." },
        { "network inspect", NULL, "NAME", "Print a network's conflist." },
        { "network rm", NULL, "NAME...",
          "Remove networks (alias: remove; -f: even while containers use them)." },
};

static const cli_cmd *find_sub(const char *word)
{
        if (strcmp(word, "list") == 0)
                word = "ls";
        else if (strcmp(word, "remove") == 0)
                word = "rm";
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (strcmp(subs[i].name + strlen("network "), word) == 0)
                        return &subs[i];
        return NULL;
}

/* The subcommand word: the first argument that is neither an option nor an option's value. */
static const char *sub_word(int argc, char **argv)
{
        static const char *const with_value[] = { "--store", "--format", "--subnet", "--gateway",
                                                   "--bridge", "-store",  "-format",  "-subnet",
                                                   "-gateway", "-bridge" };
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--") == 0)
                        return i + 1 < argc ? argv[i + 1] : NULL;
                if (a[0] != '-' || !a[1])
                        return a;
                for (size_t k = 0; k < ARRAY_SIZE(with_value); k++)
                        if (strcmp(a, with_value[k]) == 0) {
                                i++;
                                break;
                        }
        }
        return NULL;
}

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
        const cli_opt store_opt = { "store", 0, OPT_STRING, &store,
                                    "image store (default $HUSK_STORE or " HUSK_STORE_DEFAULT ")" };
        const cli_opt none = { 0 };
        const char *word = sub_word(argc, argv);
        const cli_cmd *sub = word ? find_sub(word) : NULL;
        if (word && !sub) {
                cli_fail(c, "network: unknown command '%s' (see husk network --help)", word);
                return 2;
        }
        const cli_cmd me = { "network", cmd_network, "COMMAND [ARGS...]", summary };
        /* Each subcommand takes only its own options (and --store). */
        cli_opt opts[6] = { store_opt, none };
        if (sub && strcmp(sub->name, "network ls") == 0) {
                opts[1] = (cli_opt){ "format", 0, OPT_STRING, &format, "table (default) or json" };
        } else if (sub && strcmp(sub->name, "network create") == 0) {
                opts[1] = (cli_opt){ "subnet", 0, OPT_STRING, &subnet,
                                     "IPv4 subnet (default: a free 10.9x.N.0/24)" };
                opts[2] = (cli_opt){ "gateway", 0, OPT_STRING, &gateway,
                                     "gateway address (default: the first of the subnet)" };
                opts[3] = (cli_opt){ "bridge", 0, OPT_STRING, &bridge,
                                     "bridge interface (default: a free huskN)" };
        } else if (sub && strcmp(sub->name, "network rm") == 0) {
                opts[1] = (cli_opt){ "force", 'f', OPT_BOOL, &force,
                                     "even while containers use it" };
        }
        const char *saved = c->command;
        c->command = sub ? sub->name : "network";
        char **pos = NULL;
        int npos = 0;
        int r = cli_parse(c, sub ? sub : &me, opts, argc, argv, &pos, &npos);
        c->command = saved;
        if (r != 0)
                return r > 0 ? 0 : 1;
        _cleanup_free_ char **p = pos;
        if (npos < 1 || !sub)
                return cli_fail(c, "network: a command is needed: ls, create, rm or inspect");
        husk_image_opts_t o = { .store = store };
        husk_error_t err = { 0 };
        if (strcmp(sub->name, "network ls") == 0) {
                if (npos != 1)
                        return cli_fail(c, "network ls takes no arguments");
                if (format && strcmp(format, "json") != 0 && strcmp(format, "table") != 0)
                        return cli_fail(c, "network ls: invalid --format \"%s\": table or json", format);
                return net_ls(c, &o, format && strcmp(format, "json") == 0);
        }
        if (strcmp(sub->name, "network create") == 0) {
                if (npos != 2)
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
        if (strcmp(sub->name, "network inspect") == 0) {
                if (npos != 2)
                        return cli_fail(c, "network inspect takes one NAME");
                _cleanup_free_ char *out = NULL;
                if (husk_network_inspect(&o, p[1], &out, &err) < 0)
                        return cli_fail_err(c, &err);
                fputs(out, stdout);
                return 0;
        }
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
