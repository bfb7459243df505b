/* cli_codec.c — placeholder until implemented. */
#include "cli/cli.h"
#include <stdio.h>
int cli_encode(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora encode: not implemented yet\n"); return 1; }
int cli_decode(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "agora decode: not implemented yet\n"); return 1; }
