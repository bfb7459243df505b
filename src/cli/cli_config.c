/* cli_config.c — placeholder until implemented. */
#include "cli/cli.h"
#include <stdio.h>
int cli_config(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora config: not implemented yet\n"); return 1; }
