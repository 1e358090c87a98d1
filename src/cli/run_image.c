/* SPDX-License-Identifier: Apache-2.0 */
/* `husk run [OPTIONS] IMAGE|FILE.tar [COMMAND [ARG...]]`: options as podman/docker spell them,
 * then husk_image_container_prepare (bundle from the image) and husk_run. */
#include "run_image.h"
#include "husk/image.h"
#include "husk/service.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#define EXIT_HUSK 125 /* podman/docker: the error is the runtime's, not the workload's */

typedef enum { V_NONE, V_STR, V_LIST } vkind;

typedef struct ropt {
        const char *name;
        char short_name;
        vkind kind;
        size_t off; /* into run_args */
        const char *help;
} ropt;

typedef struct run_args {
        husk_image_run_opts_t o;
        const char *name, *store, *platform, *env_files_last;
        const char *restart; /* --restart no|on-failure[:N]|always (service block) */
        const char *log_max_size; /* --log-max-size (service block) */
        bool rm, detach, interactive, help;
        char **env_cli, **env_files;
        size_t n_env_cli, n_env_files, n_vol, n_tmpfs, n_add, n_drop, n_pub;
} run_args;

#define OFF(f) offsetof(run_args, f)
static const ropt ropts[] = {
        { "name", 0, V_STR, OFF(name), "container id (default: a random one)" },
        { "rm", 0, V_NONE, OFF(rm), "remove the container when it exits (always so in the foreground)" },
        { "detach", 'd', V_NONE, OFF(detach), "start it under a monitor and print its id (husk logs/ps/stop)" },
        { "interactive", 'i', V_NONE, OFF(interactive), "keep stdin open (otherwise /dev/null)" },
        { "tty", 't', V_NONE, OFF(o.terminal), "allocate a pseudo terminal" },
        { "env", 'e', V_LIST, OFF(env_cli), "KEY=VALUE, or KEY to copy it from here" },
        { "env-file", 0, V_LIST, OFF(env_files), "read KEY=VALUE lines from FILE" },
        { "volume", 'v', V_LIST, OFF(o.volumes), "HOST:CONTAINER[:ro|rw] bind mount" },
        { "tmpfs", 0, V_LIST, OFF(o.tmpfs), "CONTAINER[:OPTIONS] tmpfs mount" },
        { "workdir", 'w', V_STR, OFF(o.workdir), "working directory inside the container" },
        { "user", 'u', V_STR, OFF(o.user), "USER[:GROUP], names from the image's /etc/passwd" },
        { "entrypoint", 0, V_STR, OFF(o.entrypoint), "replace the image's entrypoint (\"\" clears it)" },
        { "hostname", 0, V_STR, OFF(o.hostname), "container host name (default: its id)" },
        { "read-only", 0, V_NONE, OFF(o.read_only), "mount the container's root read-only" },
        { "memory", 'm', V_STR, OFF(o.memory), "memory limit, e.g. 256m" },
        { "cpus", 0, V_STR, OFF(o.cpus), "CPU limit, e.g. 1.5" },
        { "pids-limit", 0, V_STR, OFF(o.pids_limit), "maximum number of processes" },
        { "cap-add", 0, V_LIST, OFF(o.cap_add), "add a capability (or ALL)" },
        { "cap-drop", 0, V_LIST, OFF(o.cap_drop), "drop a capability (or ALL)" },
        { "network", 0, V_STR, OFF(o.network), "bridge (default; a user's: pasta), none, host, pasta or a NAME" },
        { "net", 0, V_STR, OFF(o.network), NULL },
        { "publish", 'p', V_LIST, OFF(o.publish), "[HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]: publish a port" },
        { "restart", 0, V_STR, OFF(restart), "no (default), on-failure[:N] or always (with -d)" },
        { "log-max-size", 0, V_STR, OFF(log_max_size), "rotate the log of -d at this size (default 10m)" },
        { "store", 0, V_STR, OFF(store), "image store (default $HUSK_STORE or " HUSK_STORE_DEFAULT ")" },
        { "platform", 0, V_STR, OFF(platform), "OS/ARCH[/VARIANT] to pick from a multi-platform archive" },
        { "help", 'h', V_NONE, OFF(help), NULL },
};

static size_t *list_count(run_args *a, size_t off)
{
        if (off == OFF(env_cli))
                return &a->n_env_cli;
        if (off == OFF(env_files))
                return &a->n_env_files;
        if (off == OFF(o.volumes))
                return &a->n_vol;
        if (off == OFF(o.tmpfs))
                return &a->n_tmpfs;
        if (off == OFF(o.publish))
                return &a->n_pub;
        return off == OFF(o.cap_add) ? &a->n_add : &a->n_drop;
}

static void set_opt(run_args *a, const ropt *r, const char *v)
{
        char *base = (char *)a + r->off;
        if (r->kind == V_NONE) {
                *(bool *)base = true;
        } else if (r->kind == V_STR) {
                *(const char **)base = v;
        } else {
                char ***lp = (char ***)base;
                size_t *n = list_count(a, r->off);
                *lp = xrealloc(*lp, (*n + 2) * sizeof(char *));
                (*lp)[(*n)++] = (char *)v;
                (*lp)[*n] = NULL;
        }
}

static const ropt *find_long(const char *name, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(ropts); i++)
                if (strlen(ropts[i].name) == len && strncmp(ropts[i].name, name, len) == 0)
                        return &ropts[i];
        return NULL;
}

static const ropt *find_short(char c)
{
        for (size_t i = 0; i < ARRAY_SIZE(ropts); i++)
                if (ropts[i].short_name == c)
                        return &ropts[i];
        return NULL;
}

/* Options stop at the first positional (IMAGE): what follows is the container's command. */
static int parse(cli_ctx *c, int argc, char **argv, run_args *a, int *ret_first)
{
        int i = 1;
        for (; i < argc; i++) {
                char *s = argv[i];
                if (strcmp(s, "--") == 0) {
                        i++;
                        break;
                }
                if (s[0] != '-' || !s[1])
                        break;
                if (s[1] == '-') {
                        const char *name = s + 2, *eq = strchr(name, '=');
                        const ropt *r = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
                        if (!r)
                                return -cli_fail(c, "run: unknown option %s (husk run --help)", s);
                        if (r->kind == V_NONE) {
                                if (eq && strcmp(eq + 1, "true") != 0)
                                        return -cli_fail(c, "run: %s takes no value", s);
                                set_opt(a, r, NULL);
                        } else if (eq) {
                                set_opt(a, r, eq + 1);
                        } else if (i + 1 < argc) {
                                set_opt(a, r, argv[++i]);
                        } else {
                                return -cli_fail(c, "run: %s needs a value", s);
                        }
                        continue;
                }
                /* Short options may be grouped (-it, -dit) and the last may take a value. */
                for (char *p = s + 1; *p; p++) {
                        const ropt *r = find_short(*p);
                        if (!r)
                                return -cli_fail(c, "run: unknown option -%c (husk run --help)", *p);
                        if (r->kind == V_NONE) {
                                set_opt(a, r, NULL);
                                continue;
                        }
                        if (p[1])
                                set_opt(a, r, p + 1);
                        else if (i + 1 < argc)
                                set_opt(a, r, argv[++i]);
                        else
                                return -cli_fail(c, "run: -%c needs a value", *p);
                        break;
                }
        }
        *ret_first = i;
        return 0;
}

void cli_run_image_usage(void)
{
        fputs("\nImage mode: husk run [OPTIONS] IMAGE|ARCHIVE [COMMAND [ARG...]]\n"
              "Runs a container from a stored image (name or id) or an image archive (loaded into\n"
              "the store first; a second run of the same file is a cache hit). The exit status is\n"
              "the workload's; 125 when husk itself fails.\n\n"
              "Bundle mode or image mode: a runc option (-b, --pid-file, --console-socket, ...) means\n"
              "bundle mode, an option above or a COMMAND after the word means image mode. One word\n"
              "alone is a container id in bundle mode when ./config.json exists, else an image. A\n"
              "word is a path to load when it starts with /, ./ or ../ or names an existing file\n"
              "(with a '/': any file or folder); otherwise it is a name or id as husk image ls shows.\n"
              "\nOptions:\n",
              stdout);
        for (size_t i = 0; i < ARRAY_SIZE(ropts); i++) {
                const ropt *r = &ropts[i];
                if (!r->help)
                        continue;
                char flag[40];
                if (r->short_name)
                        snprintf(flag, sizeof(flag), "-%c, --%s%s", r->short_name, r->name,
                                 r->kind == V_NONE ? "" : " V");
                else
                        snprintf(flag, sizeof(flag), "    --%s%s", r->name, r->kind == V_NONE ? "" : " V");
                printf("  %-22s %s\n", flag, r->help);
        }
}

static bool is_oci_flag(const char *s)
{
        static const char *const oci[] = { "b", "bundle", "pid-file", "console-socket", "preserve-fds",
                                           "no-pivot", "no-new-keyring", "keep" };
        const char *name = s + (s[1] == '-' ? 2 : 1);
        size_t len = strcspn(name, "=");
        for (size_t i = 0; i < ARRAY_SIZE(oci); i++)
                if (strlen(oci[i]) == len && strncmp(name, oci[i], len) == 0)
                        return true;
        return false;
}

bool cli_run_wants_image(int argc, char **argv)
{
        int npos = 0, first = -1;
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (s[0] != '-' || !s[1]) {
                        if (npos++ == 0)
                                first = i;
                        if (npos > 1)
                                return true; /* IMAGE COMMAND...: runc takes exactly one ID */
                        continue;
                }
                if (strcmp(s, "--") == 0)
                        return i + 2 < argc;
                if (is_oci_flag(s))
                        return false;
                if (strcmp(s, "-d") == 0 || strcmp(s, "--detach") == 0 ||
                    strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
                        continue; /* --help alone: runc's usage, then the image mode's */
                const char *name = s + (s[1] == '-' ? 2 : 1);
                if (s[1] == '-' ? find_long(name, strcspn(name, "=")) != NULL : find_short(s[1]) != NULL)
                        return true; /* an option only the image mode has */
        }
        /* One word: bundle mode when ./config.json exists (runc: the word is the container id),
         * image mode otherwise (README, "Bundle mode or image mode"). An id never holds a '/'. */
        if (npos != 1)
                return false;
        if (strchr(argv[first], '/'))
                return true;
        return access("config.json", F_OK) != 0;
}

/* The run's error when the image was not found: with one word and no ./config.json, bundle mode
 * was a candidate too, and the message says both what was tried. */
static int fail_not_found(cli_ctx *c, const run_args *a, const husk_error_t *err)
{
        char cwd[PATH_MAX];
        if (err->code != ENOENT || a->o.command || husk_image_ref_is_path(a->o.ref) ||
            strncmp(err->msg, "no image ", 9) != 0 || !getcwd(cwd, sizeof(cwd)) ||
            access("config.json", F_OK) == 0)
                return cli_fail_err(c, err);
        const char *hint = strstr(err->msg, ": did you mean");
        int head = hint ? (int)(hint - err->msg) : (int)strlen(err->msg);
        return cli_fail(c, "%.*s and no config.json in %s (bundle mode)%s", head, err->msg, cwd,
                        hint ? hint : "");
}

/* KEY=VALUE stays; KEY alone takes our value, or nothing when we have none (docker). */
static void env_add(char ***v, size_t *n, const char *kv)
{
        char *item = NULL;
        if (strchr(kv, '='))
                item = xstrdup(kv);
        else if (getenv(kv))
                item = xasprintf("%s=%s", kv, getenv(kv));
        if (!item)
                return;
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = item;
        (*v)[*n] = NULL;
}

static int read_env_file(cli_ctx *c, const char *path, char ***v, size_t *n)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(AT_FDCWD, path, 16u << 20, &text, NULL);
        if (r < 0)
                return -cli_fail(c, "run: --env-file %s: %s", path, strerror(-r));
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                l[strcspn(l, "\r")] = '\0';
                while (*l == ' ' || *l == '\t')
                        l++;
                if (!*l || *l == '#')
                        continue;
                env_add(v, n, l);
        }
        return 0;
}

static void random_id(char buf[17])
{
        uint8_t b[8] = { 0 };
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
                /* Never fails for 8 bytes after boot; still, make a distinct id. */
                uint64_t t = now_ns() ^ ((uint64_t)getpid() << 32);
                memcpy(b, &t, sizeof(b));
        }
        for (size_t i = 0; i < sizeof(b); i++)
                sprintf(buf + 2 * i, "%02x", b[i]);
}

/* Replace fd target with a new open of path (stdin: /dev/null). */
static int redirect(int target, const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        int r = dup2(fd, target) < 0 ? -errno : 0; /* dup2 clears CLOEXEC on target */
        close(fd);
        return r;
}

typedef struct progress {
        const char *ref;
        uint64_t t0, bytes;
} progress_t;

/* On a terminal only (stderr): one line rewritten after each layer. */
static void show_progress(void *ud, unsigned layer, unsigned layers, uint64_t bytes, bool unpacked)
{
        progress_t *p = ud;
        p->bytes += bytes;
        double s = (double)(now_ns() - p->t0) / 1e9;
        fprintf(stderr, "\rhusk: loading %s: layer %u/%u %s, %.1f MB, %.1f MB/s\033[K", p->ref,
                layer, layers, unpacked ? "unpacked" : "stored", (double)p->bytes / 1e6,
                s > 0 ? (double)p->bytes / 1e6 / s : 0.0);
}

static void args_done(run_args *a)
{
        free(a->env_cli);
        free(a->env_files);
        free(a->o.volumes);
        free(a->o.tmpfs);
        free(a->o.cap_add);
        free(a->o.cap_drop);
        free(a->o.publish);
        strv_free(a->o.env);
}

/* -d: a monitor holds the container (its output, exit status and restarts); we print the id once
 * it has started. On failure nothing is left. */
static int run_detached(cli_ctx *c, run_args *a, const char *id, husk_image_container_t *ctr)
{
        husk_service_run_opts_t so = {
                .store = a->store, .id = id, .image_ref = a->o.ref, .image_id = ctr->image_id,
                .restart = a->restart, .ports = a->o.publish, .network = a->o.network,
                .auto_remove = a->rm, .name_given = a->name != NULL,
        };
        husk_error_t err = { 0 };
        if (a->log_max_size && husk_service_size_parse(a->log_max_size, &so.log_max_size) < 0) {
                cli_fail(c, "run: invalid --log-max-size \"%s\": a size of at least 4k, e.g. 10m",
                         a->log_max_size);
                so.log_max_size = 0;
                err.code = EINVAL;
        }
        uint64_t t0 = now_ns();
        int r = err.code ? -EINVAL : husk_service_run(&c->g, &so, &err);
        cli_debug(c, "run -d %s: the monitor reported %s after %.1f ms", id, r < 0 ? "an error" : "the start",
                  (double)(now_ns() - t0) / 1e6);
        int rc = 0;
        if (r < 0) {
                husk_error_t e2 = { 0 }; /* the run error is the one to report */
                /* A monitor that died mid-create leaves a state folder (cgroup): delete it
                 * first; it takes the folder too when the state names it. */
                (void)husk_delete(&c->g, id, true, &e2);
                husk_error_clear(&e2);
                (void)husk_image_container_remove(ctr->bundle, id, &e2);
                rc = err.msg[0] ? (cli_fail_err(c, &err), EXIT_HUSK) : EXIT_HUSK;
        } else {
                printf("%s\n", id);
        }
        husk_image_container_done(ctr);
        return rc;
}

static int run(cli_ctx *c, run_args *a, const char *id)
{
        husk_error_t err = { 0 };
        char *json = NULL;
        if (husk_state_json(&c->g, id, &json, &err) == 0) {
                free(json);
                return cli_fail(c, "container \"%s\" already exists", id) ? EXIT_HUSK : 0;
        }
        husk_error_clear(&err);
        bool tty = isatty(STDERR_FILENO) == 1;
        bool archive = husk_image_ref_is_path(a->o.ref);
        uint64_t t0 = now_ns();
        progress_t prog = { .ref = a->o.ref, .t0 = t0 };
        if (tty && archive) {
                fprintf(stderr, "husk: loading %s ...", a->o.ref);
                a->o.image.progress = show_progress;
                a->o.image.progress_ud = &prog;
        }
        husk_image_container_t ctr = { 0 };
        int r = husk_image_container_prepare(&a->o, id, &ctr, &err);
        if (tty && archive)
                fprintf(stderr, "\r\033[K");
        if (r < 0)
                return fail_not_found(c, a, &err) ? EXIT_HUSK : 0;
        if (tty && ctr.loaded)
                fprintf(stderr, "husk: loaded %s as %.19s in %.2fs\n", a->o.ref, ctr.image_id,
                        (double)(now_ns() - t0) / 1e9);
        if (ctr.notice)
                cli_warn(c, ctr.notice);
        if (archive)
                cli_debug(c, "image %s: %s %s", ctr.image_id,
                          ctr.loaded ? "loaded from" : "already stored (cache hit) for", a->o.ref);
        cli_debug(c, "image container %s: bundle %s, root %s", id, ctr.bundle,
                  ctr.copied ? "private copy" : "overlay");
        if (a->detach)
                return run_detached(c, a, id, &ctr);
        int rc = 0;
        /* The container gets our stdio: without -i its stdin is /dev/null. */
        if (!a->interactive && !a->o.terminal)
                r = redirect(STDIN_FILENO, "/dev/null", O_RDONLY);
        if (r < 0) {
                husk_error_t e2 = { 0 };
                (void)husk_image_container_remove(ctr.bundle, id, &e2);
                husk_image_container_done(&ctr);
                return cli_fail(c, "run: set up the container's stdio: %s", strerror(-r)) ? EXIT_HUSK : 0;
        }
        husk_create_opts_t co = { .id = id, .bundle = ctr.bundle };
        int status = 0;
        r = husk_run(&c->g, &co, &status, &err);
        if (r < 0) {
                /* husk_run deleted what it created; the folder goes too if it is still there. */
                husk_error_t e2 = { 0 };
                (void)husk_image_container_remove(ctr.bundle, id, &e2);
                rc = cli_fail_err(c, &err) ? EXIT_HUSK : 0;
        } else {
                rc = status;
        }
        husk_image_container_done(&ctr);
        return rc;
}

int cli_run_image(cli_ctx *c, int argc, char **argv)
{
        run_args a = { 0 };
        int first = 0;
        int rc = EXIT_HUSK;
        if (parse(c, argc, argv, &a, &first) < 0)
                goto out;
        if (a.help) {
                cli_run_image_usage();
                rc = 0;
                goto out;
        }
        if (first >= argc) {
                cli_fail(c, "run: no image given (husk run --help)");
                goto out;
        }
        if (a.detach && a.o.terminal) {
                cli_fail(c, "run: -d with -t needs a console socket: use husk create --console-socket");
                goto out;
        }
        if ((a.restart || a.log_max_size) && !a.detach) {
                cli_fail(c, "run: --restart and --log-max-size need -d (a monitor applies them)");
                goto out;
        }
        if (a.restart) {
                husk_error_t perr = { 0 };
                if (husk_service_restart_check(a.restart, &perr) < 0) {
                        cli_fail(c, "run: %s", perr.msg);
                        goto out;
                }
                if (a.rm && strcmp(a.restart, "no") != 0) {
                        cli_fail(c, "run: --rm and --restart %s cannot be used together", a.restart);
                        goto out;
                }
        }
        /* The CLI's default is the bridge network (rootless: pasta, as podman's); the library's
         * (NULL) stays "none" for its other callers. */
        if (!a.o.network)
                a.o.network = util_rootless() ? "pasta" : "bridge";
        a.o.ref = argv[first];
        a.o.command = first + 1 < argc ? argv + first + 1 : NULL;
        a.o.image.store = a.store;
        a.o.root = c->g.root;
        a.o.image.platform = a.platform;
        size_t n = 0;
        for (size_t i = 0; i < a.n_env_files; i++)
                if (read_env_file(c, a.env_files[i], &a.o.env, &n) < 0)
                        goto out;
        for (size_t i = 0; i < a.n_env_cli; i++)
                env_add(&a.o.env, &n, a.env_cli[i]);
        char gen[17];
        const char *id = a.name;
        if (!id) {
                random_id(gen);
                id = gen;
        }
        husk_error_t err = { 0 };
        if (husk_id_validate(id, &err) < 0) {
                cli_fail_err(c, &err);
                goto out;
        }
        rc = run(c, &a, id);
out:
        args_done(&a);
        return rc;
}
