/* SPDX-License-Identifier: Apache-2.0 */
/* husk command line: shared declarations. Each command file turns argv into options and makes one
 * husk_* call; only this layer prints. */
#ifndef HUSK_CLI_H
#define HUSK_CLI_H

#include "husk/husk.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct cli_ctx {
        husk_global_t g;
        const char *log_path;  /* --log FILE, NULL: none */
        bool log_json;         /* --log-format json */
        const char *command;   /* the subcommand being run */
} cli_ctx;

typedef enum cli_opt_type {
        OPT_BOOL,   /* bool *: --flag, --flag=true|false */
        OPT_STRING, /* const char **: --flag VALUE, --flag=VALUE */
        OPT_UINT,   /* unsigned *: checked decimal */
} cli_opt_type;

typedef struct cli_opt {
        const char *name; /* long name without dashes */
        char short_name;  /* 0: none */
        cli_opt_type type;
        void *ptr;
        const char *help;
} cli_opt;

typedef struct cli_cmd {
        const char *name;
        int (*run)(cli_ctx *c, int argc, char **argv); /* argv[0] is the command name */
        const char *args;    /* positional arguments, for the usage line */
        const char *summary; /* one line */
} cli_cmd;

/* Parse the command's options (GNU style: options and positionals may mix; "--" ends options;
 * single-dash long names as Go's flag package allows). Returns 0 and the positionals, 1 when
 * --help was printed (exit 0), or -1 after reporting a usage error (exit 1). */
int cli_parse(cli_ctx *c, const cli_cmd *cmd, const cli_opt *opts, int argc, char **argv,
              char ***ret_pos, int *ret_npos);
/* Check the positional count; reports "COMMAND requires ..." and returns -1 when wrong. */
int cli_want_args(cli_ctx *c, int npos, int min, int max);
void cli_usage(const cli_cmd *cmd, const cli_opt *opts, FILE *out);

/* Report a failure: "husk: MSG" on stderr and one log line (level error) in --log. Returns 1. */
int cli_fail(cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail_err(cli_ctx *c, const husk_error_t *err);
/* A warning: into --log when given, else on stderr. */
void cli_warn(cli_ctx *c, const char *msg);
/* A debug line (only with --debug): into --log when given, else on stderr. */
void cli_debug(cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Install c as the target of the library's warnings (husk_global_t.warn). */
void cli_log_init(cli_ctx *c);

/* "9", "KILL", "SIGKILL", "kill", "RTMIN+1" -> signal number. -EINVAL when unknown. */
int cli_parse_signal(const char *s, int *ret);

int cmd_spec(cli_ctx *c, int argc, char **argv);
int cmd_create(cli_ctx *c, int argc, char **argv);
int cmd_run(cli_ctx *c, int argc, char **argv);
int cmd_start(cli_ctx *c, int argc, char **argv);
int cmd_state(cli_ctx *c, int argc, char **argv);
int cmd_list(cli_ctx *c, int argc, char **argv);
int cmd_kill(cli_ctx *c, int argc, char **argv);
int cmd_delete(cli_ctx *c, int argc, char **argv);
int cmd_pause(cli_ctx *c, int argc, char **argv);
int cmd_resume(cli_ctx *c, int argc, char **argv);
int cmd_update(cli_ctx *c, int argc, char **argv);
int cmd_ps(cli_ctx *c, int argc, char **argv);

/* engines: exec, events, features, checkpoint, restore */
int cmd_exec(cli_ctx *c, int argc, char **argv);
int cmd_events(cli_ctx *c, int argc, char **argv);
int cmd_features(cli_ctx *c, int argc, char **argv);
int cmd_checkpoint(cli_ctx *c, int argc, char **argv);
int cmd_restore(cli_ctx *c, int argc, char **argv);
/* network: ls, create, rm, inspect (src/cli/network.c) */
int cmd_network(cli_ctx *c, int argc, char **argv);

/* services (`husk run -d`): logs, stop, restart, rm, inspect, ps without an id */
int cmd_logs(cli_ctx *c, int argc, char **argv);
int cmd_stop(cli_ctx *c, int argc, char **argv);
int cmd_restart(cli_ctx *c, int argc, char **argv);
int cmd_rm(cli_ctx *c, int argc, char **argv);
int cmd_inspect(cli_ctx *c, int argc, char **argv);
int cmd_service_ps(cli_ctx *c, int argc, char **argv);
/* `husk system prune` (src/cli/system.c) */
int cmd_system(cli_ctx *c, int argc, char **argv);
/* `husk fn ...`: execs husk-fn (src/cli/fn.c). */
int cmd_fn(cli_ctx *c, int argc, char **argv);
/* `husk serve ...`: execs `husk-fn serve ...` (src/cli/fn.c). */
int cmd_serve(cli_ctx *c, int argc, char **argv);
int cmd_queue(cli_ctx *c, int argc, char **argv);
int cmd_api(cli_ctx *c, int argc, char **argv);

/* The command table entry of name (for usage output from the command files). */
const cli_cmd *cli_find_command(const char *name);

#endif
