#ifndef CSIGNALPIPE_H
#define CSIGNALPIPE_H

/*
 * The self-pipe trick for SIGINT and SIGTERM: the handler only write()s the
 * signal number (one byte) into a pipe, which is async-signal-safe; a normal
 * thread reads the pipe and acts.  Needed because a Swift closure cannot be
 * a signal handler and Dispatch signal sources miss signals that are
 * ignored or not blocked in every thread on Linux.
 *
 * Threading: call install once, from any thread, before the signals matter.
 * The write end is the one piece of process-wide state a signal handler
 * needs; it lives in this file only.
 */

/* Creates the pipe (close-on-exec), installs the handlers (SA_RESTART).
 * Returns the read end, or -1 with errno set. */
int CSignalPipe_install(void);

/* Restores the default actions of SIGINT and SIGTERM. */
void CSignalPipe_restore(void);

#endif
