/*
 * iae: IAE-LSTM-KL anomaly detection (Huang et al., IEEE TIM 2024) in C.
 * Entry point: dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"

#define IAE_VERSION "0.1.0"

static void usage(FILE *out) {
    fputs("usage: iae COMMAND [OPTIONS]\n"
          "\n"
          "Anomaly detection with IAE-LSTM-KL: a convolutional autoencoder with an LSTM\n"
          "between encoder and feature layer, trained on normal data only with a Deep\n"
          "SVDD term, a reconstruction term and a KL term.\n"
          "\n"
          "commands:\n"
          "  train   pre-train the autoencoder, train IAE-LSTM-KL, report test AUROC\n"
          "  eval    score a test set with a saved model and report AUROC\n"
          "\n"
          "Run 'iae COMMAND --help' for the options of a command.\n"
          "  --help     show this message\n"
          "  --version  print the version\n"
          "\n"
          "example:\n"
          "  iae train --dataset fashion-mnist --normal-class 0 --out model.iae\n"
          "  iae eval --model model.iae\n",
          out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return IAE_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("iae %s\n", IAE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    cli_error("unknown command '%s'; run 'iae --help' for the list of commands", cmd);
    return IAE_EXIT_USAGE;
}
