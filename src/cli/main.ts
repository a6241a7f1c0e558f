/**
 * The facepoints command line: one subcommand per file in this folder, each
 * a few lines of argument handling around library calls. `main(argv, io)`
 * runs one invocation and resolves to its exit code, so tests can run every
 * command in-process.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { Command, CommanderError } from 'commander';

import { FACEPOINTS_VERSION } from '../runs/run-folder.js';
import { type CliContext, type CliIo, processIo } from './io.js';
import { demoCommand } from './demo.js';
import { evaluateCommand } from './evaluate.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { plotCommand } from './plot.js';
import { predictCommand } from './predict.js';
import { serveCommand } from './serve.js';
import { specialistsCommand } from './specialists.js';
import { submitCommand } from './submit.js';
import { trainCommand } from './train.js';
import { EXIT, reportError } from './report-error.js';

/** Builds the program; a fresh one per invocation, since commander keeps parsed state. */
export function createProgram(io: CliContext): Command {
  const program = new Command('facepoints')
    .description('Train convolutional networks that find facial keypoints, and use them.')
    .version(FACEPOINTS_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text.startsWith('error:') ? `facepoints: ${text}` : text),
    })
    .exitOverride();
  const commands = [
    demoCommand(io),
    trainCommand(io),
    evaluateCommand(io),
    predictCommand(io),
    importCommand(io),
    submitCommand(io),
    plotCommand(io),
    specialistsCommand(io),
    exportCommand(io),
    serveCommand(io),
  ];
  for (const command of commands) {
    // Inherit the output routing and exitOverride, which addCommand does not copy.
    command.copyInheritedSettings(program);
    program.addCommand(command);
  }
  return program;
}

/**
 * Runs one invocation of the command line.
 *
 * @param argv the arguments after the program name, e.g. `['plot', 'runs/a']`.
 * @returns the exit code: 0 success, 1 bad input, 2 unexpected error, 130 interrupted training.
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const ctx: CliContext = { ...io, stdout: io.stdout, stderr: io.stderr, argv, exitCode: EXIT.ok };
  const program = createProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    return reportError(error, io.stderr);
  }
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
