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
const WIDTHS = [5, 10, 10, 9, 7];

/** The two header lines of the table. */
export function formatHeader(): string {
  const titles = ['epoch', 'train loss', 'valid loss', 'train/val', 'dur'];
  const head = titles.map((t, i) => t.padStart(WIDTHS[i])).join(' | ');
  const rule = WIDTHS.map((w, i) => '-'.repeat(w + (i === 0 || i === WIDTHS.length - 1 ? 1 : 2))).join('|');
  return `${head}\n${rule}`;
}

function number(value: number): string {
  return Number.isNaN(value) ? '-' : value.toFixed(6);
}

/**
 * One row of the table.
 *
 * @example
 * formatRow({ epoch: 1, trainLoss: 0.1, validLoss: 0.05, trainLossBest: true, validLossBest: true, trainValRatio: 2, dur: 1.5 }, false);
 * // '    1 |   0.100000*|   0.050000*|  2.000000 |   1.50s'
 */
export function formatRow(record: EpochRecord, color: boolean): string {
  const mark = (text: string, width: number, best: boolean, ansi: string) => {
    const padded = text.padStart(width);
    if (!best) return `${padded} `;
    return color ? `${ansi}${padded}${END} ` : `${padded}*`;
  };
  return [
    String(record.epoch).padStart(WIDTHS[0]) + ' ',
    ' ' + mark(number(record.trainLoss), WIDTHS[1], record.trainLossBest, CYAN),
    ' ' + mark(number(record.validLoss), WIDTHS[2], record.validLossBest, GREEN),
    ' ' + number(record.trainValRatio).padStart(WIDTHS[3]) + ' ',
    ' ' + `${record.dur.toFixed(2)}s`.padStart(WIDTHS[4]),
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
    if (!this.headerPrinted) {
      text += `${formatHeader()}\n`;
      this.headerPrinted = true;
    }
    stream.write(`${text}${formatRow(record, color)}\n`);
  }

  toConfig(): CallbackConfig {
    return { type: 'PrintLog' };
  }
}
