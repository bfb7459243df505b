/* cli.h — the agora command's subcommands (each in its own file). */
#ifndef AG_CLI_H
#define AG_CLI_H

/* Each returns the process exit status. argv[0] is the subcommand name. */
int cli_encode(int argc, char **argv);  /* cli_codec.c */
int cli_decode(int argc, char **argv);  /* cli_codec.c */
int cli_config(int argc, char **argv);  /* cli_config.c: "config check FILE" */
int cli_serve(int argc, char **argv);   /* cli_node.c */
int cli_watch(int argc, char **argv);   /* cli_watch.c */
int cli_publish(int argc, char **argv); /* cli_publish.c */
int cli_members(int argc, char **argv); /* cli_members.c */
int cli_bench(int argc, char **argv);   /* cli_bench.c (the benchmark: src/bench/) */
/* Reading a node's admin endpoint (cli_inspect.c, cli_top.c; need libcurl). */
int cli_status(int argc, char **argv);          /* status --from */
int cli_top(int argc, char **argv);             /* top --from */
int cli_inspect_members(int argc, char **argv); /* members --from */

/* Exit statuses shared by the subcommands. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1      /* runtime failure (network, malformed input) */
#define CLI_EXIT_USAGE 2     /* bad arguments or configuration */
#define CLI_EXIT_TIMEOUT 3   /* watch: --timeout passed before --count events */
#define CLI_EXIT_NOBODY 4    /* publish: no other member was alive, the events went nowhere;
                                members: no member was heard */
#define CLI_EXIT_GAVE_UP 5   /* serve, watch, publish: the backend gave up for good
                                (agora_status.failure: another live node has this id) */

#endif
