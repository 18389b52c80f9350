/*
 * iae: IAE-LSTM-KL anomaly detection (Huang et al., IEEE TIM 2024) in C.
 * Entry point: dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "io/atomic_file.h"

#define IAE_VERSION "0.1.0"

static void usage(FILE *out) {
    fputs("usage: iae COMMAND [OPTIONS]\n"
          "\n"
          "Anomaly detection with IAE-LSTM-KL: a convolutional autoencoder with an LSTM\n"
          "between encoder and feature layer, trained on normal data only with a Deep\n"
          "SVDD term, a reconstruction term and a KL term.\n"
          "\n"
          "commands:\n"
          "  train   pre-train the autoencoder, train IAE-LSTM-KL, report test AUROC, on\n"
          "          fashion-mnist, cifar10, mvtec, csv-windows or image folders (--dataset)\n"
          "  eval    score a test set with a saved model and report AUROC per LSTM context\n"
          "  score   score new images (IDX, PNG, PGM) or CSV windows with a saved model, one\n"
          "          row each; --stream scores CSV rows from standard input as they arrive\n"
          "  experiment  run a grid of models x classes x seeds x contamination, with tables\n"
          "              and figures\n"
          "  plot    draw the summary figures of an experiment's results.csv\n"
          "  search  tune the loss weights on held-out data, never on the test set\n"
          "  bench   time training steps, layers and scoring against the machine's limits\n"
          "\n"
          "Run 'iae COMMAND --help' for the options of a command.\n"
          "  --help     show this message\n"
          "  --version  print the version\n"
          "\n"
          "example:\n"
          "  iae train --dataset fashion-mnist --normal-class 0 --out model.iae\n"
          "  iae eval --model model.iae\n"
          "  iae score --model model.iae image.png\n",
          out);
}

int main(int argc, char **argv) {
    iae_atomic_install_signal_cleanup();
    if (argc < 2) {
        cli_error("missing command; run 'iae --help' for the list of commands");
        return IAE_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    }
    if (strcmp(cmd, "--version") == 0) {
        if (argc > 2) {
            cli_error("unexpected argument '%s' after --version", argv[2]);
            return IAE_EXIT_USAGE;
        }
        printf("iae %s\n", IAE_VERSION);
        return cli_check_stdout() ? 0 : IAE_EXIT_FAILURE;
    }
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0) return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "score") == 0) return cmd_score(argc - 1, argv + 1);
    if (strcmp(cmd, "experiment") == 0) return cmd_experiment(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "search") == 0) return cmd_search(argc - 1, argv + 1);
    cli_error("unknown command '%s'; run 'iae --help' for the list of commands", cmd);
    return IAE_EXIT_USAGE;
}
