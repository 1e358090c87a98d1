/* SPDX-License-Identifier: Apache-2.0 */
/* `husk image [--store DIR] load|ls|inspect|rm|prune ...` */
#include "image.h" /* src/cli/image.h: same folder */
#include "husk/image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
        "Usage: husk image [--store DIR] COMMAND [options] [arguments]\n\n"
        "Manage the local image store.\n\n"
        "Commands:\n"
        "  load [--platform OS/ARCH[/VARIANT]] [LIMITS] FILE|DIR\n"
        "  ls [--format table|json]\n"
        "  inspect NAME|ID\n"
        "  rm [-f] NAME|ID...\n"
        "  prune\n\n"
        "The store is --store, else $HUSK_STORE, else " HUSK_STORE_DEFAULT ".\n"
        "`husk image COMMAND --help` describes a command.\n";

/* `husk image COMMAND --help`: that command's own usage. */
static const struct {
        const char *name, *text;
} sub_usage[] = {
        { "load", "Usage: husk image load [--store DIR] [--platform OS/ARCH[/VARIANT]] [LIMITS] "
                  "FILE|DIR\n\n"
                  "Load the images of an OCI layout or archive, or a docker-archive, into the "
                  "store.\n\n"
                  "Options:\n"
                  "  --platform OS/ARCH[/VARIANT]   the image of that platform from an index "
                  "(default: this host's)\n"
                  "  --store DIR                    the image store\n\n"
                  "LIMITS (SIZE in bytes, or with a K, M, G or T suffix: 512M, 4G):\n"
                  "  --max-entry-size SIZE   one file in a layer (default 4G)\n"
                  "  --max-layer-size SIZE   the file bytes of one layer, and the size of one layer\n"
                  "                          blob (default 16G)\n"
                  "  --max-entries N         entries (files, folders, links) of one layer, and of\n"
                  "                          the archive (default 1000000)\n"
                  "  --min-free-space SIZE   free space the store's filesystem keeps: the load fails\n"
                  "                          before going below (default 1G, or 5% of a filesystem\n"
                  "                          smaller than 20G)\n" },
        { "ls", "Usage: husk image ls [--store DIR] [--format table|json]\n\n"
                "List the images of the store (alias: list).\n\n"
                "Options:\n"
                "  --format table|json   output format (default table)\n"
                "  --store DIR           the image store\n" },
        { "inspect", "Usage: husk image inspect [--store DIR] NAME|ID\n\n"
                     "Print an image's details as JSON.\n" },
        { "rm", "Usage: husk image rm [--store DIR] [-f] NAME|ID...\n\n"
                "Remove an image name (the image goes with its last name), or by id the image "
                "with all its names. Layers stay until prune. An image that containers or "
                "functions use is refused, naming them.\n\n"
                "Options:\n"
                "  -f, --force   remove it all the same\n" },
        { "prune", "Usage: husk image prune [--store DIR]\n\n"
                   "Remove the layers and configs no image uses, and leftovers of interrupted "
                   "loads.\n" },
};

/* COMMAND --help or -h anywhere among its arguments: print its usage. 1 when printed, 0 when
 * not asked, -1 for an unknown command (the caller reports it). */
static int sub_help(int argc, char **argv)
{
        bool asked = false;
        for (int i = 1; i < argc && !asked; i++)
                asked = strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
        if (!asked)
                return 0;
        const char *name = strcmp(argv[0], "list") == 0 ? "ls" : argv[0];
        for (size_t k = 0; k < sizeof(sub_usage) / sizeof(sub_usage[0]); k++)
                if (strcmp(sub_usage[k].name, name) == 0) {
                        fputs(sub_usage[k].text, stdout);
                        return 1;
                }
        return -1;
}

static int fail(const husk_error_t *err)
{
        fprintf(stderr, "husk: %s\n", err->msg);
        return 1;
}

static int bad_usage(const char *what)
{
        fprintf(stderr, "husk image: %s\n%s", what, usage);
        return 2;
}

/* Takes "--opt VALUE" or "--opt=VALUE" at argv[*i]; NULL when argv[*i] is not opt. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
        size_t l = strlen(opt);
        if (strncmp(argv[*i], opt, l) != 0)
                return NULL;
        if (argv[*i][l] == '=')
                return argv[*i] + l + 1;
        if (argv[*i][l] != '\0')
                return NULL;
        if (*i + 1 >= argc) {
                *missing = true;
                return NULL;
        }
        return argv[++*i];
}

static void human_size(uint64_t b, char *buf, size_t len)
{
        const char *units[] = { "B", "kB", "MB", "GB", "TB" };
        double v = (double)b;
        size_t u = 0;
        while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%" PRIu64 "B", b);
        else
                snprintf(buf, len, "%.1f%s", v, units[u]);
}

/* "4096", "512M", "4G": a positive size, binary units. false when malformed or 0. */
static bool parse_size(const char *v, bool units, uint64_t *ret)
{
        char *end = NULL;
        if (!*v || *v < '0' || *v > '9')
                return false;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        unsigned shift = 0;
        if (errno || n == 0)
                return false;
        if (units && *end) {
                const char *u = strchr("KMGT", *end == 'k' ? 'K' : *end);
                if (!u || end[1])
                        return false;
                shift = 10 * (unsigned)(u - "KMGT" + 1);
                end++;
        }
        if (*end || (shift && n > (UINT64_MAX >> shift)))
                return false;
        *ret = (uint64_t)n << shift;
        return true;
}

static int cmd_load(husk_image_opts_t *o, int argc, char **argv)
{
        struct {
                const char *opt;
                bool units;
                uint64_t *field;
        } limits[] = {
                { "--max-entry-size", true, &o->max_entry_size },
                { "--max-layer-size", true, &o->max_layer_size },
                { "--max-entries", false, &o->max_entries },
                { "--min-free-space", true, &o->min_free_space },
        };
        const char *path = NULL;
        for (int i = 1; i < argc; i++) {
                bool missing = false, limit = false;
                const char *v;
                for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]) && !limit; k++) {
                        if (!(v = opt_value(argc, argv, &i, limits[k].opt, &missing)))
                                continue;
                        limit = true;
                        if (!parse_size(v, limits[k].units, limits[k].field)) {
                                fprintf(stderr, "husk image: %s needs a positive %s\n%s",
                                        limits[k].opt,
                                        limits[k].units ? "size (4096, 512M, 4G)" : "number",
                                        usage);
                                return 2;
                        }
                }
                if (limit)
                        continue;
                if (missing)
                        return bad_usage("option needs a value");
                if ((v = opt_value(argc, argv, &i, "--platform", &missing)))
                        o->platform = v;
                else if (missing)
                        return bad_usage("option needs a value");
                else if (argv[i][0] == '-' && argv[i][1])
                        return bad_usage("unknown option for load");
                else if (path)
                        return bad_usage("load takes one FILE or DIR");
                else
                        path = argv[i];
        }
        if (!path)
                return bad_usage("load needs a FILE or DIR");
        husk_error_t err = { 0 };
        husk_image_loaded_t *v = NULL;
        size_t n = 0;
        if (husk_image_load(o, path, &v, &n, &err) < 0)
                return fail(&err);
        for (size_t i = 0; i < n; i++) {
                printf("Loaded image %s", v[i].id);
                for (size_t k = 0; v[i].names && v[i].names[k]; k++)
                        printf(" %s", v[i].names[k]);
                printf("\n");
                if (v[i].skipped_devices)
                        fprintf(stderr, "husk: %s: %u device nodes in the layers were not created\n",
                                v[i].id, v[i].skipped_devices);
        }
        husk_image_loaded_free(v, n);
        return 0;
}

static int cmd_ls(husk_image_opts_t *o, int argc, char **argv)
{
        bool json = false;
        for (int i = 1; i < argc; i++) {
                bool missing = false;
                const char *v = opt_value(argc, argv, &i, "--format", &missing);
                if (v && strcmp(v, "json") == 0)
                        json = true;
                else if (v && strcmp(v, "table") == 0)
                        json = false;
                else
                        return bad_usage("ls takes only --format table|json");
        }
        husk_error_t err = { 0 };
        if (json) {
                char *out = NULL;
                if (husk_image_list_json(o, &out, &err) < 0)
                        return fail(&err);
                printf("%s\n", out);
                free(out);
                return 0;
        }
        husk_image_info_t *v = NULL;
        size_t n = 0;
        if (husk_image_list(o, &v, &n, &err) < 0)
                return fail(&err);
        printf("%-40s %-12s %-6s %s\n", "NAME", "ID", "LAYERS", "SIZE");
        for (size_t i = 0; i < n; i++) {
                char size[32];
                human_size(v[i].size, size, sizeof(size));
                const char *id = v[i].id + strlen("sha256:");
                size_t k = 0;
                do {
                        const char *name = v[i].names && v[i].names[k] ? v[i].names[k] : "<none>";
                        printf("%-40s %-12.12s %-6zu %s\n", name, id, v[i].n_layers, size);
                } while (v[i].names && v[i].names[k] && v[i].names[++k]);
        }
        husk_image_info_free(v, n);
        return 0;
}

static int cmd_inspect(husk_image_opts_t *o, int argc, char **argv)
{
        if (argc != 2)
                return bad_usage("inspect takes one NAME or ID");
        husk_error_t err = { 0 };
        char *out = NULL;
        if (husk_image_inspect_json(o, argv[1], &out, &err) < 0)
                return fail(&err);
        printf("%s\n", out);
        free(out);
        return 0;
}

/* The functions of the store whose image is id: husk-fn reads its own database (husk links no
 * SQLite). No fn.db: none. NULL when husk-fn could not answer. */
static char *fn_users(const husk_image_opts_t *o, const char *id)
{
        const char *store = husk_image_store_path(o);
        char *db = NULL;
        if (asprintf(&db, "%s/fn/fn.db", store) < 0)
                return NULL;
        bool none = access(db, F_OK) != 0;
        free(db);
        if (none)
                return strdup("");
        char *av[] = { "husk-fn", "image-users", (char *)id, "--store", (char *)store, NULL };
        return cli_fn_output(av);
}

/* podman refuses to remove an image a container uses; so does husk, unless -f. */
static int check_unused(const husk_image_opts_t *o, const char *ref)
{
        husk_error_t err = { 0 };
        char *id = NULL, **users = NULL;
        if (husk_image_users(o, ref, &id, &users, &err) < 0)
                return fail(&err);
        int rc = 0;
        char *fns = id ? fn_users(o, id) : strdup("");
        if (!fns) {
                fprintf(stderr, "husk: image %s: cannot ask husk-fn which functions use it; "
                                "husk image rm -f removes it anyway\n", ref);
                rc = 1;
        } else if (users[0] || fns[0]) {
                fprintf(stderr, "husk: image %s is in use by", ref);
                if (users[0])
                        fputs(users[1] ? " containers" : " container", stderr);
                for (size_t k = 0; users[k]; k++)
                        fprintf(stderr, "%s %s", k ? "," : "", users[k]);
                if (fns[0]) {
                        fprintf(stderr, "%s function%s", users[0] ? " and" : "",
                                strchr(fns, '\n') != strrchr(fns, '\n') ? "s" : "");
                        size_t k = 0;
                        for (char *save = NULL, *l = strtok_r(fns, "\n", &save); l;
                             l = strtok_r(NULL, "\n", &save))
                                fprintf(stderr, "%s %s", k++ ? "," : "", l);
                }
                fputs(": remove them first (husk rm, husk fn rm), or use husk image rm -f\n", stderr);
                rc = 1;
        }
        for (size_t k = 0; users[k]; k++)
                free(users[k]);
        free(users);
        free(id);
        free(fns);
        return rc;
}

static int cmd_rm(husk_image_opts_t *o, int argc, char **argv)
{
        bool force = false;
        int w = 1;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
                        force = true;
                else
                        argv[w++] = argv[i];
        }
        argc = w;
        if (argc < 2)
                return bad_usage("rm needs a NAME or ID");
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                husk_error_t err = { 0 };
                char *id = NULL;
                if (!force && check_unused(o, argv[i]) != 0) {
                        rc = 1;
                        continue;
                }
                if (husk_image_rm(o, argv[i], &id, &err) < 0) {
                        rc = fail(&err);
                        continue;
                }
                if (id)
                        printf("Deleted: %s\n", id);
                else
                        printf("Untagged: %s\n", argv[i]);
                free(id);
        }
        return rc;
}

static int cmd_prune(husk_image_opts_t *o, int argc, char **argv)
{
        if (argc != 1)
                return bad_usage("prune takes no arguments");
        husk_error_t err = { 0 };
        size_t n = 0;
        if (husk_image_prune(o, &n, &err) < 0)
                return fail(&err);
        printf("Removed %zu layers\n", n);
        return 0;
}

int cli_image(const husk_global_t *g, int argc, char **argv)
{
        husk_image_opts_t o = { 0 };
        int i = 1;
        (void)g;
        while (i < argc && argv[i][0] == '-') {
                bool missing = false;
                const char *v = opt_value(argc, argv, &i, "--store", &missing);
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(usage, stdout);
                        return 0;
                }
                if (!v)
                        return bad_usage(missing ? "--store needs a value" : "unknown option");
                o.store = v;
                i++;
        }
        if (i >= argc)
                return bad_usage("no command given");
        /* --store may also follow the command: pull it out of the remaining arguments. */
        char **args = calloc((size_t)(argc - i) + 1, sizeof(char *));
        int n = 0;
        if (!args)
                return 1;
        for (int k = i; k < argc; k++) {
                bool missing = false;
                int j = k;
                const char *v = k > i ? opt_value(argc, argv, &j, "--store", &missing) : NULL;
                if (v) {
                        o.store = v;
                        k = j;
                        continue;
                }
                if (missing) {
                        free(args);
                        return bad_usage("--store needs a value");
                }
                args[n++] = argv[k];
        }
        const char *cmd = args[0];
        int rc;
        char what[128];
        snprintf(what, sizeof(what), "unknown command '%.64s' (see husk image --help)", cmd);
        if ((rc = sub_help(n, args)) != 0)
                rc = rc > 0 ? 0 : bad_usage(what);
        else if (strcmp(cmd, "load") == 0)
                rc = cmd_load(&o, n, args);
        else if (strcmp(cmd, "ls") == 0 || strcmp(cmd, "list") == 0)
                rc = cmd_ls(&o, n, args);
        else if (strcmp(cmd, "inspect") == 0)
                rc = cmd_inspect(&o, n, args);
        else if (strcmp(cmd, "rm") == 0)
                rc = cmd_rm(&o, n, args);
        else if (strcmp(cmd, "prune") == 0)
                rc = cmd_prune(&o, n, args);
        else
                rc = bad_usage(what);
        free(args);
        return rc;
}
