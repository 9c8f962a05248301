/* havm — subcommand table shared by the CLI files. Each handler gets argv
 * with argv[0] = its own name and returns a process exit code. */
#ifndef HAVM_HAVM_CLI_H
#define HAVM_HAVM_CLI_H

typedef int (*havm_cli_fn)(int argc, char **argv);

struct havm_cli_cmd {
	const char *name;
	havm_cli_fn fn;
	const char *help;
};

/* havm vhd ... (cli_vhd.c) */
int havm_cli_vhd(int argc, char **argv);

/* havm vsv ... (cli_vsv.c) */
int havm_cli_vsv(int argc, char **argv);

/* havm open|online|looksalive|isalive|offline|terminate|close CONFIG
 * (cli_lifecycle.c); argv[0] names the entry point. */
int havm_cli_lifecycle(int argc, char **argv);

/* havm store format|ls|import|export|rm|df URL (cli_store.c) */
int havm_cli_store(int argc, char **argv);

/* havm status CONFIG | havm list (cli_status.c) */
int havm_cli_status(int argc, char **argv);

/* havm cluster (cli_cluster.c) */
int havm_cli_cluster(int argc, char **argv);

#endif
