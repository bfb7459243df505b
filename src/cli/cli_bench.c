/* cli_bench.c — placeholder until implemented. */
#include "cli/cli.h"
#include <stdio.h>
int cli_bench(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora bench: not implemented yet\n"); return 1; }
