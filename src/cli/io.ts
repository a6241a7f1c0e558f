/**
 * Where a command writes. The real program passes process.stdout/stderr;
 * tests pass collectors, so every command runs in-process with its output
 * captured.
 */

/** The part of a stream the commands use. */
export interface OutStream {
  write(text: string): unknown;
  /** True on a terminal: progress bars and colours only then. */
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
}

/** What a command gets: the streams, the arguments of the invocation, and where to put its exit code. */
export interface CliContext extends CliIo {
  argv: string[];
  /** Set by a command whose success is not plain 0 (an interrupted training: 130). */
  exitCode: number;
}

let pipeHandled = false;

/**
 * The process's own streams. When the reader of a pipe goes away
 * (`facepoints evaluate ... | head`), the command ends quietly instead of
 * dying on EPIPE.
 */
export function processIo(): CliIo {
  if (!pipeHandled) {
    pipeHandled = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EPIPE') process.exit(0);
        throw error;
      });
    }
  }
  return { stdout: process.stdout, stderr: process.stderr };
}

/** Writes one line. */
export function println(stream: OutStream, text = ''): void {
  stream.write(`${text}\n`);
}
