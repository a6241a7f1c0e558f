/**
 * The verbose training table of nolearn and the seed:
 *
 *   epoch | train loss | valid loss | train/val |   dur
 *   ------|------------|------------|-----------|-------
 *       1 |   0.105340 |   0.025450 |  4.139240 |  1.84s
 *
 * printed live, one row per epoch. Best losses are coloured as in nolearn
 * (train cyan, valid green) when the stream is a terminal, and marked with
 * a `*` otherwise, so logs piped to a file still show them.
 */
import type { EpochRecord } from '../history.js';
import type { NeuralNet } from '../neural-net.js';
import type { Callback, CallbackConfig } from './types.js';

/** Where the table goes: anything with `write`, e.g. process.stdout. */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface PrintLogOptions {
  /** Default: the net's `output` (process.stdout in Node, console.log elsewhere, unless the net was given another). */
  stream?: TextSink;
  /** Colour best values; default: whether the stream is a TTY. */
  color?: boolean;
}

const CYAN = '\u001b[36m';
const GREEN = '\u001b[32m';
const END = '\u001b[0m';
/** Column widths: epoch, train loss, valid loss, train/val, dur. */
const WIDTHS = [5, 10, 10, 9, 7];

/** The widths for a run of up to `maxEpochs` epochs: the epoch column grows with its digits. */
function widthsFor(maxEpochs = 0): number[] {
  return [Math.max(WIDTHS[0], String(maxEpochs).length), ...WIDTHS.slice(1)];
}

/** The two header lines of the table (wide enough for `maxEpochs`). */
export function formatHeader(maxEpochs?: number): string {
  const widths = widthsFor(maxEpochs);
  const titles = ['epoch', 'train loss', 'valid loss', 'train/val', 'dur'];
  const head = titles.map((t, i) => t.padStart(widths[i])).join(' | ');
  const rule = widths.map((w, i) => '-'.repeat(w + (i === 0 || i === widths.length - 1 ? 1 : 2))).join('|');
  return `${head}\n${rule}`;
}

/**
 * A number in at most `width` characters: 6 decimals when they fit, else
 * scientific notation with as many digits as fit ('1.2346e+5'), so a column
 * never shifts whatever the value.
 */
function fitNumber(value: number, width: number): string {
  if (Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const fixed = value.toFixed(6);
  // Six decimals unless they do not fit, or would round a tiny loss to nothing.
  if (fixed.length <= width && (value === 0 || Math.abs(value) >= 1e-5)) return fixed;
  for (let digits = width; digits >= 0; digits--) {
    const text = value.toExponential(digits);
    if (text.length <= width) return text;
  }
  return value.toExponential(0);
}

/** Seconds in at most `width` characters: '1.50s', '12345s', then minutes or hours. */
function fitDuration(seconds: number, width: number): string {
  for (const digits of [2, 1, 0]) {
    const text = `${seconds.toFixed(digits)}s`;
    if (text.length <= width) return text;
  }
  const minutes = `${(seconds / 60).toFixed(0)}m`;
  return minutes.length <= width ? minutes : `${(seconds / 3600).toFixed(0)}h`;
}

/**
 * One row of the table; every column keeps its width whatever the values
 * (huge losses, long runs), so rows stay under their titles.
 *
 * @example
 * formatRow({ epoch: 1, trainLoss: 0.1, validLoss: 0.05, trainLossBest: true, validLossBest: true, trainValRatio: 2, dur: 1.5 }, false);
 * // '    1 |   0.100000*|   0.050000*|  2.000000 |   1.50s'
 */
export function formatRow(record: EpochRecord, color: boolean, maxEpochs?: number): string {
  const widths = widthsFor(maxEpochs);
  const mark = (text: string, width: number, best: boolean, ansi: string) => {
    const padded = text.padStart(width);
    if (!best) return `${padded} `;
    return color ? `${ansi}${padded}${END} ` : `${padded}*`;
  };
  return [
    String(record.epoch).padStart(widths[0]) + ' ',
    ' ' + mark(fitNumber(record.trainLoss, widths[1]), widths[1], record.trainLossBest, CYAN),
    ' ' + mark(fitNumber(record.validLoss, widths[2]), widths[2], record.validLossBest, GREEN),
    ' ' + fitNumber(record.trainValRatio, widths[3]).padStart(widths[3]) + ' ',
    ' ' + fitDuration(record.dur, widths[4]).padStart(widths[4]),
  ].join('|');
}

/** process.stdout in Node, console.log line by line elsewhere: where a net's messages go by default. */
export function defaultTextSink(): TextSink {
  const proc = (globalThis as { process?: { stdout?: TextSink } }).process;
  if (proc?.stdout && typeof proc.stdout.write === 'function') return proc.stdout;
  let line = '';
  return {
    write(text: string) {
      line += text;
      const parts = line.split('\n');
      line = parts.pop() ?? '';
      for (const part of parts) console.log(part);
    },
  };
}

/**
 * Prints the table (nolearn's `PrintLog`); added for you when `verbose >= 1`.
 *
 * @example
 * new NeuralNet({ layers, onEpochFinished: [new PrintLog({ stream: process.stderr })] });
 */
export class PrintLog implements Callback {
  private readonly stream?: TextSink;
  private readonly color?: boolean;
  private headerPrinted = false;

  constructor(options: PrintLogOptions = {}) {
    this.stream = options.stream;
    this.color = options.color;
  }

  onTrainingStarted(): void {
    this.headerPrinted = false;
  }

  onEpochFinished(net: NeuralNet, history: EpochRecord[]): void {
    const record = history[history.length - 1];
    if (!record) return;
    const stream = this.stream ?? net.output;
    const color = this.color ?? stream.isTTY === true;
    let text = '';
    const maxEpochs = Math.max(net.maxEpochs, record.epoch);
    if (!this.headerPrinted) {
      text += `${formatHeader(maxEpochs)}\n`;
      this.headerPrinted = true;
    }
    stream.write(`${text}${formatRow(record, color, maxEpochs)}\n`);
  }

  toConfig(): CallbackConfig {
    return { type: 'PrintLog' };
  }
}
