/* cli_node.c — placeholder until implemented. */
#include "cli/cli.h"
#include <stdio.h>
int cli_serve(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora serve: not implemented yet\n"); return 1; }
int cli_watch(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora watch: not implemented yet\n"); return 1; }
int cli_publish(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora publish: not implemented yet\n"); return 1; }
int cli_members(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora members: not implemented yet\n"); return 1; }
