/**
 * The CLI's one error handler: what the user did wrong gets one clear line
 * and exit code 1; anything else is a bug and gets its stack and exit code 2.
 */
import { FILE_PROBLEMS, FacepointsError } from '../errors.js';
import { type OutStream, println } from './io.js';

/** Exit codes of the facepoints command. */
export const EXIT = {
  ok: 0,
  /** Bad input: a usage error, a missing or malformed file, an unknown preset, a refused output folder. */
  badInput: 1,
  /** An unexpected error (a bug): the stack is printed. */
  internal: 2,
  /** Training stopped by Ctrl-C; the run folder is complete and can be resumed. */
  interrupted: 130,
} as const;

/**
 * Prints an error the way the CLI shows it and returns the exit code.
 *
 * @example
 * try { await run(); } catch (error) { process.exitCode = reportError(error, process.stderr); }
 */
export function reportError(error: unknown, stderr: OutStream): number {
  if (error instanceof FacepointsError) {
    println(stderr, `facepoints: error: ${error.message}`);
    return EXIT.badInput;
  }
  const fsError = error as NodeJS.ErrnoException;
  // File-system errors a user causes (a wrong path), as opposed to a bug.
  if (fsError && typeof fsError.code === 'string' && FILE_PROBLEMS[fsError.code] && fsError.path) {
    println(stderr, `facepoints: error: ${fsError.path} ${FILE_PROBLEMS[fsError.code]}`);
    return EXIT.badInput;
  }
  const stack = error instanceof Error ? (error.stack ?? String(error)) : String(error);
  println(stderr, `facepoints: unexpected error (this is a bug in facepoints; please report it):\n${stack}`);
  return EXIT.internal;
}
