/**
 * Progress inside each epoch, as a training callback. On a terminal it is a
 * bar that the epoch's table row replaces: it is listed before the
 * PrintLog, so at the end of an epoch it clears its line before the row is
 * printed. Piped to a file, a bar would only fill the log with control
 * codes: then it writes a plain line now and then, and only for epochs slow
 * enough to need one.
 */
import cliProgress from 'cli-progress';

import { type TrainRunOptions, type TrainRunResult, trainRun } from '../runs/train-run.js';
import type { BatchInfo, Callback } from '../train/callbacks/types.js';
import type { NeuralNet } from '../train/neural-net.js';
import type { OutStream } from './io.js';

export interface EpochProgressOptions {
  stream: OutStream;
  /** Rows the net trains on per epoch (after the validation split), to know the number of batches; see `setTrainRows`. */
  trainRows?: number;
  /** Seconds between plain lines when the stream is not a terminal (default 30). */
  plainEvery?: number;
  /** Force the bar on or off (default: whether the stream is a TTY). */
  bar?: boolean;
}

/**
 * @example
 * const progress = new EpochProgress({ stream: process.stdout });
 * await trainRun({ ..., callbacks: [progress], onSplit: ({ train }) => progress.setTrainRows(train) });
 * new NeuralNet({ layers, callbacks: [progress, new PrintLog({ stream: process.stdout })] });
 */
export class EpochProgress implements Callback {
  private readonly stream: OutStream;
  private trainRows: number;
  private readonly plainEvery: number;
  private readonly useBar: boolean;
  private bar?: cliProgress.SingleBar;
  private epochStarted = 0;
  private lastPlain = 0;

  constructor(options: EpochProgressOptions) {
    this.stream = options.stream;
    this.trainRows = options.trainRows ?? 1;
    this.plainEvery = options.plainEvery ?? 30;
    this.useBar = options.bar ?? this.stream.isTTY === true;
  }

  /** Sets the training rows once the split is known (trainRun's onSplit). */
  setTrainRows(rows: number): void {
    this.trainRows = rows;
  }

  private batchesPerEpoch(net: NeuralNet): number {
    return Math.max(1, Math.ceil(this.trainRows / net.batchIteratorTrain.batchSize));
  }

  onBatchFinished(net: NeuralNet, _history: unknown, batch: BatchInfo): void {
    const total = this.batchesPerEpoch(net);
    const now = Date.now();
    if (batch.batchIndex === 0) {
      this.epochStarted = now;
      this.lastPlain = now;
    }
    const done = Math.min(batch.batchIndex + 1, total);
    if (this.useBar) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          {
            stream: this.stream as NodeJS.WritableStream,
            format: ' epoch {epoch} [{bar}] {value}/{total} batches | loss {loss} | {duration}s',
            barsize: 30,
            clearOnComplete: true,
            hideCursor: true,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(total, 0, { epoch: batch.epoch, loss: '-' });
      }
      this.bar.update(done, { epoch: batch.epoch, loss: batch.loss.toFixed(6) });
    } else if (now - this.lastPlain >= this.plainEvery * 1000 && done < total) {
      this.lastPlain = now;
      const seconds = Math.round((now - this.epochStarted) / 1000);
      this.stream.write(
        `  epoch ${batch.epoch}: ${done}/${total} batches, loss ${batch.loss.toFixed(6)}, ${seconds}s\n`,
      );
    }
  }

  /** Clears the bar so the table row takes its line. */
  onEpochFinished(): void {
    this.stop();
  }

  onTrainingFinished(): void {
    this.stop();
  }

  /** Stops the bar's timer; call it also when fit throws, or the timer keeps the process alive. */
  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
}

/** The hooks a run takes to drive a progress bar (trainRun, resumeRun and trainSpecialists all take them). */
export interface ProgressHooks {
  callbacks: Callback[];
  onSplit: (rows: { train: number; valid: number }) => void;
}

/**
 * Runs `run` with an `EpochProgress` on `stream`, told the training rows once
 * the split is known; the bar is stopped however the run ends.
 *
 * @example
 * const result = await withEpochProgress(ctx.stdout, (hooks) => resumeRun(dir, { ...hooks, log: ctx.stdout }));
 */
export async function withEpochProgress<T>(
  stream: OutStream,
  run: (hooks: ProgressHooks) => Promise<T>,
): Promise<T> {
  const progress = new EpochProgress({ stream });
  try {
    return await run({ callbacks: [progress], onSplit: (rows) => progress.setTrainRows(rows.train) });
  } finally {
    progress.stop();
  }
}

/**
 * `trainRun` with an `EpochProgress` on `stream`, after the run's own
 * callbacks.
 *
 * @example
 * const result = await trainRunWithProgress({ folder, config, dataset, log: ctx.stdout }, ctx.stdout);
 */
export async function trainRunWithProgress(
  options: TrainRunOptions,
  stream: OutStream,
): Promise<TrainRunResult> {
  return withEpochProgress(stream, (hooks) =>
    trainRun({
      ...options,
      callbacks: [...(options.callbacks ?? []), ...hooks.callbacks],
      onSplit: (rows) => {
        hooks.onSplit(rows);
        options.onSplit?.(rows);
      },
    }),
  );
}
