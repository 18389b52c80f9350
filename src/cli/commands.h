/* Subcommands of the iae command line; each returns the process exit code. */
#ifndef IAE_CLI_COMMANDS_H
#define IAE_CLI_COMMANDS_H

#include "data/source.h" /* IAE_DEFAULT_FMNIST_DIR */

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_search(int argc, char **argv);

#endif
