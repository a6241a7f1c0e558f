/**
 * A run folder: everything one training run leaves behind, so it can be
 * compared, plotted, reproduced and resumed.
 *
 * Layout (names in {@link RUN_FILES}):
 *   config.json    the full resolved training config (what --resume reads back)
 *   run.json       seed, data fingerprint, machine, engine, timings, status, model paths
 *   history.json   per-epoch records (missing numbers as null)
 *   history.csv    the same, one row per epoch
 *   model-best.fpm the net at its best validation loss
 *   model-last.fpm the net after the last finished epoch (the resume checkpoint)
 *   loss.png, loss.svg  the loss curves
 *
 * Every file is written atomically (temp file + rename), so a run stopped at
 * any moment leaves each file either old or new, never half-written. A new
 * run forced into the folder of an earlier one writes into a hidden staging
 * folder until its first save is complete (`commit`), so an earlier run is
 * never lost to a new one that fails (a full disk, bad settings, Ctrl-C).
 */
import { readFileSync } from 'node:fs';
import { readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { ConfigError, DataFormatError, fileError } from '../errors.js';
import { processIsAlive, removeStaleTempFiles, writeFileAtomic } from '../io/atomic-write.js';
import { makeFolder, outputErrorOf } from '../io/output-error.js';
import { type EpochRecord, historyFromJson, historyToJson } from '../train/history.js';
import type { DataFingerprint } from './fingerprint.js';
import { historyToCsv } from './history-csv.js';
import type { MachineInfo } from './machine.js';

/** File names inside a run folder. */
export const RUN_FILES = {
  config: 'config.json',
  record: 'run.json',
  historyJson: 'history.json',
  historyCsv: 'history.csv',
  bestModel: 'model-best.fpm',
  lastModel: 'model-last.fpm',
  lossPng: 'loss.png',
  lossSvg: 'loss.svg',
} as const;

export type RunFileKey = keyof typeof RUN_FILES;

/** How a training session ended. */
export type RunStatus = 'running' | 'finished' | 'early-stopped' | 'interrupted' | 'failed';

/** One invocation of training; a resumed run has several. */
export interface TrainingSession {
  startedAt: string;
  finishedAt?: string;
  /** First and last epoch this session trained (lastEpoch < firstEpoch if it finished none). */
  firstEpoch: number;
  lastEpoch: number;
  seconds: number;
  engine: string;
  machine: MachineInfo;
  command: string[];
}

/** Contents of run.json. */
export interface RunRecord {
  facepointsVersion: string;
  seed: number;
  engine: string;
  data: DataFingerprint;
  status: RunStatus;
  /** Epochs finished in total, over every session. */
  epochs: number;
  bestEpoch?: number;
  bestValidLoss?: number;
  /** Paths relative to the run folder. */
  models: { best: string; last: string };
  sessions: TrainingSession[];
  /** Sum of the sessions' seconds, and the mean seconds per finished epoch. */
  timings: { totalSeconds: number; meanEpochSeconds: number | null };
}

/** Pretty JSON (2-space indent, trailing newline), written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

function packageVersion(): string {
  try {
    // src/runs/ and dist/runs/ are both two levels below the package root.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return String((JSON.parse(text) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** The facepoints version a run record names. */
export const FACEPOINTS_VERSION = packageVersion();

/** Staging folders are named `.facepoints-new-run.PID`. */
const STAGING_PREFIX = '.facepoints-new-run.';

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`${path} does not exist: is this a facepoints run folder?`, { cause: error });
    }
    throw fileError(path, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(`not valid JSON (${(error as Error).message})`, { file: path });
  }
}

/**
 * A run folder on disk.
 *
 * @example
 * const run = await RunFolder.create('runs/net1', { force: false });
 * await run.writeConfig(config);
 * await run.writeHistory(net.trainHistory);
 * // later: const again = await RunFolder.open('runs/net1'); const config = await again.readConfig();
 */
export class RunFolder {
  /** Where a new run replacing an earlier one writes until its first complete save. */
  private staging?: string;

  private constructor(readonly dir: string) {}

  /**
   * Makes (or takes) a folder for a new run. A folder that holds anything is
   * refused unless `force`, so a run never silently mixes with another's
   * files. With `force`, nothing is removed up front: when the folder holds
   * an earlier run, the new run's files go to a staging folder and replace
   * the earlier run's only at `commit` (after the new run's first save);
   * files that are not run files are left alone.
   */
  static async create(dir: string, options: { force?: boolean } = {}): Promise<RunFolder> {
    const path = resolve(dir);
    let entries: string[] | undefined;
    try {
      const info = await stat(path);
      if (!info.isDirectory()) throw new ConfigError(`output ${dir} exists and is not a folder`);
      entries = await readdir(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!entries) {
      await makeFolder(path);
      return new RunFolder(path);
    }
    if (entries.length > 0 && !options.force) {
      throw new ConfigError(
        `output folder ${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}): ` +
          'use --force to replace its run files, or --resume to go on training it',
      );
    }
    const folder = new RunFolder(path);
    await folder.removeStaleFiles();
    const names = Object.values(RUN_FILES) as string[];
    if ((await readdir(path)).some((name) => names.includes(name))) {
      folder.staging = join(path, `${STAGING_PREFIX}${process.pid}`);
      await rm(folder.staging, { recursive: true, force: true });
      await makeFolder(folder.staging);
    }
    return folder;
  }

  /** Opens an existing run folder (for --resume or plotting); it must hold config.json. */
  static async open(dir: string): Promise<RunFolder> {
    const path = resolve(dir);
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw fileError(dir, error, 'run folder');
    }
    if (!info.isDirectory()) throw new ConfigError(`run folder ${dir} is a file, expected a folder`);
    const folder = new RunFolder(path);
    try {
      await stat(folder.file('config'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(folder.file('config'), error);
      throw new ConfigError(`${dir} is not a facepoints run folder: it has no ${RUN_FILES.config}`, {
        cause: error,
      });
    }
    return folder;
  }

  /**
   * Removes what killed writers left in the folder (kill -9, a second
   * Ctrl-C): temporary files of the run files and staging folders of
   * processes that are gone. Returns the names removed.
   */
  async removeStaleFiles(): Promise<string[]> {
    const removed = await removeStaleTempFiles(this.dir, Object.values(RUN_FILES));
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      if (!entry.startsWith(STAGING_PREFIX)) continue;
      const pid = Number(entry.slice(STAGING_PREFIX.length));
      if (pid === process.pid || !processIsAlive(pid)) {
        await rm(join(this.dir, entry), { recursive: true, force: true });
        removed.push(entry);
      }
    }
    return removed;
  }

  /** Whether a new run is being staged over an earlier run's files (until `commit`). */
  get replacing(): boolean {
    return this.staging !== undefined;
  }

  /**
   * Ends the staging of a new run forced over an earlier one: each staged
   * file replaces the earlier run's (a rename each, no copy), and the earlier
   * run's files the new run did not write are removed. A no-op otherwise.
   */
  async commit(): Promise<void> {
    const staging = this.staging;
    if (!staging) return;
    const staged = await readdir(staging);
    for (const name of Object.values(RUN_FILES)) {
      const target = join(this.dir, name);
      try {
        if (staged.includes(name)) await rename(join(staging, name), target);
        else await rm(target, { force: true });
      } catch (error) {
        throw await outputErrorOf(error, target);
      }
    }
    this.staging = undefined;
    await rm(staging, { recursive: true, force: true });
  }

  /** Drops a staged new run: the earlier run's files stay as they were. A no-op when not staging. */
  async discard(): Promise<void> {
    const staging = this.staging;
    this.staging = undefined;
    if (staging) await rm(staging, { recursive: true, force: true });
  }

  /** Absolute path of one of the run's files (in the staging folder while a new run is staged). */
  file(key: RunFileKey): string {
    return join(this.staging ?? this.dir, RUN_FILES[key]);
  }

  /** Where one of the run's files ends up, staged or not (for messages). */
  finalPath(key: RunFileKey): string {
    return join(this.dir, RUN_FILES[key]);
  }

  async exists(key: RunFileKey): Promise<boolean> {
    try {
      return (await stat(this.file(key))).isFile();
    } catch {
      return false;
    }
  }

  async writeConfig(config: unknown): Promise<void> {
    await writeJsonAtomic(this.file('config'), config);
  }

  async readConfig<T = unknown>(): Promise<T> {
    return (await readJson(this.file('config'))) as T;
  }

  async writeRecord(record: RunRecord): Promise<void> {
    await writeJsonAtomic(this.file('record'), record);
  }

  async readRecord(): Promise<RunRecord> {
    return (await readJson(this.file('record'))) as RunRecord;
  }

  /** Writes history.json and history.csv. */
  async writeHistory(history: readonly EpochRecord[]): Promise<void> {
    await writeFileAtomic(this.file('historyJson'), `${historyToJson(history)}\n`);
    await writeFileAtomic(this.file('historyCsv'), historyToCsv(history));
  }

  async readHistory(): Promise<EpochRecord[]> {
    const path = this.file('historyJson');
    try {
      return historyFromJson(await readJson(path));
    } catch (error) {
      if (error instanceof ConfigError) throw new DataFormatError(error.message, { file: path });
      throw error;
    }
  }
}

/**
 * Sums a record's sessions into its timings.
 *
 * @example
 * record.timings = summariseTimings(record.sessions, record.epochs);
 */
export function summariseTimings(sessions: readonly TrainingSession[], epochs: number): RunRecord['timings'] {
  const totalSeconds = sessions.reduce((sum, s) => sum + s.seconds, 0);
  return { totalSeconds, meanEpochSeconds: epochs > 0 ? totalSeconds / epochs : null };
}
