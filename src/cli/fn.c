/* SPDX-License-Identifier: Apache-2.0 */
/* `husk fn ARGS...` runs husk-fn (the function host, its own program so that husk itself links
 * neither libmicrohttpd nor SQLite): first the husk-fn next to this husk binary (a build tree),
 * then the installed one in $(pkglibexecdir). Built into a small library of its own (Makefile.am,
 * fn block) for the -DHUSK_FN_PATH flag; it uses nothing of libhusk. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HUSK_FN_PATH
#define HUSK_FN_PATH "/usr/local/libexec/husk/husk-fn"
#endif

#define STORE_OPT                                                                                  \
        "  --store DIR                    the store (default $HUSK_STORE or /var/lib/husk)\n"
#define FN_OPTS                                                                                    \
        "  --image IMAGE|FILE.tar         the image whose workers run the function (create)\n"  \
        "  --memory SIZE                  memory of a worker, 16M .. 10240M (default 128M)\n"    \
        "  --timeout DURATION             longest invocation, 1ms .. 15m (default 3s)\n"         \
        "  --concurrency N                workers at once, 1 .. 1000 (default 4)\n"              \
        "  --max-queue N                  invocations waiting for a worker, 0 .. 100000 (64)\n"  \
        "  --keep-warm DURATION           how long an idle worker stays (default 10m)\n"         \
        "  --handler H                    _HANDLER of the runtime (default function.handler)\n"  \
        "  --env KEY=VALUE                an environment variable (repeatable)\n"              \
        "  --pids N                       processes and threads of a worker, 8 .. 4194304\n"     \
        "                                 (default 1024)\n"                                      \
        "  --log-max-size SIZE            the log rotates to NAME.log.1 past it (default 10m)\n" \
        "  --log-rate SIZE                output one invocation may log per second; the rest\n"  \
        "                                 is dropped with a marker line (default 1m)\n"          \
        "  --max-events N                 Event invocations waiting per function, 1 .. 100000;\n" \
        "                                 past it 429 (default 1000)\n" STORE_OPT

#define SERVE_TEXT                                                                                 \
        "Serve the Lambda API, the SQS API (JSON and query protocols), API Gateway's and\n"       \
        "EventBridge Scheduler's control planes and /metrics on one address,\n"                    \
        "and run the functions' workers. Requests must carry an AWS Signature Version 4 made with\n" \
        "the keys in STORE/credentials (created at the first start; `husk serve credentials`\n"     \
        "prints them, for root only).\n\nOptions:\n"                                               \
        "  --listen ADDR:PORT             where to listen (default 127.0.0.1:9000)\n"             \
        "  --listen-unix PATH             also listen on a unix socket (mode 0600)\n"             \
        "  --region REGION                the region of queue ARNs and of signatures\n"           \
        "                                 (default us-east-1)\n"                                  \
        "  --account ID                   the account of queue URLs and ARNs, 12 digits\n"        \
        "                                 (default 000000000000)\n"                               \
        "  --no-auth                      accept unsigned requests (tests, single-user machines)\n" \
        "  --zip-base-image IMAGE         the image Zip functions of the Lambda API run on (their\n" \
        "                                 code at /var/task; the role of provided.al2023)\n" \
        "  --init-timeout DURATION        longest worker start (default 10s)\n"                   \
        "  --retry-delay DURATION         first delay before an Event invocation is retried\n"    \
        "                                 (default 1s)\n"                                         \
        "  --request-timeout DURATION     longest time to receive one request's headers and\n"    \
        "                                 body, and to send its answer (default 30s)\n"          \
        "  --api-listen ADDR:PORT         serve the HTTP APIs' routes there (the gateway)\n"      \
        "  --api-workers N                integrations run at once (default 64)\n"               \
        "  --api-backlog N                requests waiting for a worker; past it 503 (4096)\n"    \
        "  --api-connections N            open gateway connections (default: the open-file\n"    \
        "                                 limit less 1024)\n"                                    \
        "  --api-throttle RATE:BURST      every API's own token bucket (10000:5000)\n" STORE_OPT \
        "\nAlso:\n"                                                                               \
        "  credentials [--format ini|env] print the access key id and secret (root only)\n"

/* `husk fn COMMAND --help`: that command's usage (husk-fn prints only the general one). */
static const struct {
        const char *name, *text;
} fn_usage[] = {
        { "create", "Usage: husk fn create NAME --image IMAGE|FILE.tar [options]\n\n"
                    "Create a function.\n\nOptions:\n" FN_OPTS },
        { "update", "Usage: husk fn update NAME [options]\n\n"
                    "Change a function's settings (the options of create).\n\nOptions:\n" FN_OPTS },
        { "ls", "Usage: husk fn ls [--store DIR]\n\nList the functions (alias: list).\n\n"
                "Options:\n" STORE_OPT },
        { "inspect", "Usage: husk fn inspect [--store DIR] NAME\n\n"
                     "Print a function's settings as JSON.\n\nOptions:\n" STORE_OPT },
        { "rm", "Usage: husk fn rm [--store DIR] NAME\n\nRemove a function.\n\n"
                "Options:\n" STORE_OPT },
        { "logs", "Usage: husk fn logs [-f] [--store DIR] NAME\n\n"
                  "Print the function's log (START/END/REPORT lines and its output).\n\n"
                  "Options:\n"
                  "  -f, --follow                   keep printing new lines\n" STORE_OPT },
        { "serve", "Usage: husk fn serve [options]   (the same as husk serve)\n\n" SERVE_TEXT },
        { "invoke", "Usage: husk fn invoke NAME [options]\n\n"
                    "Invoke a function through the running serve and print its answer.\n\n"
                    "Options:\n"
                    "  --payload JSON|@FILE           the event (default {})\n"
                    "  --type TYPE                    RequestResponse (default), Event or DryRun\n"
                    "  --endpoint HOST:PORT           the serve to ask (default: the running "
                    "serve's address)\n" STORE_OPT },
        { "map", "Usage: husk fn map FUNCTION QUEUE [options]\n\n"
                 "Let a queue (a name or an SQS ARN of the running serve) trigger a function: an\n"
                 "event source mapping, as Lambda's CreateEventSourceMapping. Prints its UUID.\n\n"
                 "Options:\n"
                 "  --batch-size N                 messages per invocation, 1 .. 10000 (10); above "
                 "10\n"
                 "                                 it needs --window (FIFO queues: at most 10)\n"
                 "  --window SECONDS               how long a batch may gather, 0 .. 300 (0)\n"
                 "  --report-failures              ReportBatchItemFailures: only the items the\n"
                 "                                 function names in batchItemFailures come back\n"
                 "  --max-concurrency N            concurrent batches at most, 2 .. 1000 (the\n"
                 "                                 function's concurrency bounds them too)\n"
                 "  --endpoint HOST:PORT           the serve to ask (default: the running "
                 "serve's address)\n" STORE_OPT },
        { "stats", "Usage: husk fn stats [NAME] [options]\n\n"
                   "The figures of the running serve's functions (from its GET /metrics):\n"
                   "invocations, errors, throttles, concurrent executions, dead-letter errors,\n"
                   "duration p50/p99/max and the queue mappings' iterator age. Without NAME:\n"
                   "every function.\n\n"
                   "Options:\n"
                   "  --format table|json            the output (default table)\n"
                   "  --endpoint HOST:PORT           the serve to ask (default: the running "
                   "serve's address)\n" STORE_OPT },
        { "unmap", "Usage: husk fn unmap UUID\n\nRemove an event source mapping.\n\n"
                   "Options:\n" STORE_OPT },
        { "maps", "Usage: husk fn maps\n\nList the event source mappings of the running serve."
                  "\n\nOptions:\n" STORE_OPT },
};

/* The command word is the first argument that is not an option (nor --store's value); -h/--help
 * anywhere asks for its usage. Returns 1 when printed, 0 to go on, -1 for an unknown command
 * (named on stderr). */
static int fn_help(int argc, char **argv)
{
        const char *word = NULL;
        bool asked = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
                        asked = true;
                else if (!word && strcmp(argv[i], "--store") == 0)
                        i++;
                else if (!word && argv[i][0] != '-')
                        word = argv[i];
        }
        if (!asked || !word)
                return 0; /* husk-fn prints the general usage */
        if (strcmp(word, "list") == 0)
                word = "ls";
        for (size_t k = 0; k < sizeof(fn_usage) / sizeof(fn_usage[0]); k++)
                if (strcmp(fn_usage[k].name, word) == 0) {
                        fputs(fn_usage[k].text, stdout);
                        return 1;
                }
        if (strcmp(word, "image-users") == 0 || strcmp(word, "schedule") == 0)
                return 0; /* husk's own, or with its own help (schedule) */
        fprintf(stderr, "husk fn: unknown command '%s' (husk fn --help)\n", word);
        return -1;
}

/* Runs husk-fn with av (av[0] "husk-fn"): the one next to this husk binary (a build tree),
 * then the installed one. Returns only on failure. */
static int exec_fn(cli_ctx *c, char **av)
{
        char self[PATH_MAX], next[PATH_MAX + 16];
        husk_rootless_hold_across_exec(); /* a user's husk-fn is in the user's namespace */
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        snprintf(next, sizeof(next), "%.*s/husk-fn", (int)(slash - self), self);
                        execv(next, av);
                }
        }
        execv(HUSK_FN_PATH, av);
        int e = errno;
        free(av);
        return cli_fail(c, "fn: cannot run husk-fn (next to husk or %s): %s", HUSK_FN_PATH,
                        strerror(e));
}

/* `husk serve ARGS...` is `husk fn serve ARGS...` (and `husk serve credentials`). */
int cmd_serve(cli_ctx *c, int argc, char **argv)
{
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        fputs("Usage: husk serve [options]\n       husk serve credentials "
                              "[--format ini|env] [--store DIR]\n\n" SERVE_TEXT,
                              stdout);
                        return 0;
                }
        char **av = calloc((size_t)argc + 2, sizeof(char *));
        if (!av)
                return cli_fail(c, "serve: out of memory");
        av[0] = (char *)"husk-fn";
        av[1] = (char *)"serve";
        for (int i = 1; i < argc; i++)
                av[i + 1] = argv[i];
        return exec_fn(c, av);
}

int cmd_fn(cli_ctx *c, int argc, char **argv)
{
        int h = fn_help(argc, argv);
        if (h)
                return h > 0 ? 0 : 2;
        char **av = calloc((size_t)argc + 1, sizeof(char *));
        if (!av)
                return cli_fail(c, "fn: out of memory");
        av[0] = (char *)"husk-fn";
        for (int i = 1; i < argc; i++)
                av[i] = argv[i];
        return exec_fn(c, av);
}

/* `husk queue ARGS...` is `husk-fn queue ARGS...` (its own help). */
int cmd_queue(cli_ctx *c, int argc, char **argv)
{
        char **av = calloc((size_t)argc + 2, sizeof(char *));
        if (!av)
                return cli_fail(c, "queue: out of memory");
        av[0] = (char *)"husk-fn";
        av[1] = (char *)"queue";
        for (int i = 1; i < argc; i++)
                av[i + 1] = argv[i];
        return exec_fn(c, av);
}

/* `husk api ARGS...` is `husk-fn api ARGS...` (its own help). */
int cmd_api(cli_ctx *c, int argc, char **argv)
{
        char **av = calloc((size_t)argc + 2, sizeof(char *));
        if (!av)
                return cli_fail(c, "api: out of memory");
        av[0] = (char *)"husk-fn";
        av[1] = (char *)"api";
        for (int i = 1; i < argc; i++)
                av[i + 1] = argv[i];
        return exec_fn(c, av);
}
