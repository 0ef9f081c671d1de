/* common/subproc.h: runs an external program to completion with a timeout,
 * capturing its stdout and stderr, and builds argument vectors from
 * templates with {placeholders}. No shell unless the caller runs one itself:
 * {"/bin/sh", "-c", cmd, NULL}. Not here: what the output means (the callers,
 * e.g. provider/exec), running a program in the background. */
#ifndef POOLSCALE_SUBPROC_H
#define POOLSCALE_SUBPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define SUBPROC_LINGER_MS 250	/* how long output is still read after the program exits */
#define SUBPROC_ARG_MAX 131072	/* bytes in one expanded argument with its NUL
				 * (Linux's MAX_ARG_STRLEN) */

struct subproc_result {
	int exit_code;		/* exit status; -1 when a signal ended it or it timed out */
	int term_signal;	/* the signal that ended it, or 0 */
	bool timed_out;		/* it was still running at the timeout and got SIGTERM */
	struct buf out, err;	/* stdout and stderr up to each buf's max; the rest of
				 * the output is read and dropped */
	bool out_truncated, err_truncated;	/* output was dropped */
	int64_t elapsed_ms;
};

/* Caller's storage; out_max and err_max cap what is kept of each stream. The
 * owner calls subproc_result_fini(); one result may serve many runs. */
void subproc_result_init(struct subproc_result *r, size_t out_max, size_t err_max);
void subproc_result_fini(struct subproc_result *r);

/* Runs argv[0] (searched in PATH as execvp does, but a file without "#!" is
 * not handed to /bin/sh) with argv, in a process group of its own, stdin
 * from /dev/null or, when input is not NULL, fed from that string. Signals
 * are unblocked and at their defaults in the program.
 *
 * At timeout_ms the group gets SIGTERM and, kill_grace_ms later, SIGKILL.
 * When the program exits, whatever it left running in its group gets
 * SIGKILL; its output is read for up to SUBPROC_LINGER_MS more, so a
 * process that left the group (setsid) and holds the pipes cannot hold us.
 * Always reaps the program before returning; never leaves a zombie.
 *
 * Returns 0 when the program ran, whatever its exit status, with r filled
 * (its buffers reset first); -1 with e set when it could not be started
 * ("exec NAME: No such file or directory", with the child's errno).
 * Blocks the calling thread; safe from any thread: it keeps no global state,
 * waits only for its own child (with waitpid on its pid) and between fork
 * and exec the child makes async-signal-safe calls only. */
int subproc_run(char *const argv[], const char *input, int64_t timeout_ms,
    int64_t kill_grace_ms, struct subproc_result *r, struct err *e);

/* Builds an argument vector from n template arguments, replacing each {key}
 * inside an argument with values[i] where keys[i] is key; "{{" stands for a
 * literal "{" (a lone "}" is literal too). An unknown {name} or an unclosed
 * "{" is an error naming it. Values are inserted as they are: in shell mode
 * ({"/bin/sh", "-c", "cmd {x}"}) the value becomes shell code, so quote it
 * with subproc_shell_quote() first and pass the quoted value, or have the
 * user write '{x}' where a value cannot hold a quote. On success *out_argv
 * is a NULL-terminated vector the caller frees with subproc_argv_free(). */
int subproc_expand(char *const tmpl[], size_t n, const char *const keys[],
    const char *const values[], size_t nkeys, char ***out_argv, struct err *e);
/* Frees a vector from subproc_expand(); NULL is a no-op. */
void subproc_argv_free(char **argv);

/* Appends s to b single-quoted for /bin/sh ('it'\''s'), so the shell reads
 * it back as exactly s. 0, or -1 when b is full. */
int subproc_shell_quote(struct buf *b, const char *s);

#endif
