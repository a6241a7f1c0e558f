/** Running the CLI in-process with its output captured, and small generated inputs for it. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import { main } from '../../src/cli/main.js';
import type { KeypointDataset } from '../../src/data/dataset.js';
import { IMAGE_SIZE, PIXEL_MAX } from '../../src/data/scaling.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `facepoints ...args` in this process. */
export async function runCli(...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/**
 * Trains a small net1 through the CLI (`train net1 --data synthetic:FACES`,
 * batch 32, tfjs unless `engine` says otherwise) into `out` and returns the
 * path of its best model.
 */
export async function trainSmallModel(
  out: string,
  options: { faces: number; epochs: number; engine?: 'tfjs' | 'native' },
): Promise<string> {
  const trained = await runCli(
    'train',
    'net1',
    '--data',
    `synthetic:${options.faces}`,
    '--engine',
    options.engine ?? 'tfjs',
    '--epochs',
    String(options.epochs),
    '--batch-size',
    '32',
    '--out',
    out,
  );
  if (trained.code !== 0) throw new Error(`training the test model failed: ${trained.stderr}`);
  return join(out, 'model-best.fpm');
}

/** A fresh temp folder, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `facepoints-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Gray 8-bit pixels of frame `row`. */
export function framePixels(dataset: Pick<KeypointDataset, 'images'>, row: number): Buffer {
  const size = IMAGE_SIZE * IMAGE_SIZE;
  return Buffer.from(
    Array.from(dataset.images.subarray(row * size, (row + 1) * size), (v) => Math.round(v * PIXEL_MAX)),
  );
}

/**
 * Writes frame `row` as a PNG, scaled to `size` pixels square by pixel
 * repetition, so a whole-number scale shrinks back to exactly the frame.
 */
export async function writeFramePng(
  dataset: Pick<KeypointDataset, 'images'>,
  row: number,
  path: string,
  size = IMAGE_SIZE,
): Promise<void> {
  const image = sharp(framePixels(dataset, row), {
    raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 },
  });
  await writeFile(
    path,
    await (size === IMAGE_SIZE ? image : image.resize(size, size, { kernel: 'nearest' })).png().toBuffer(),
  );
}

/** Reads a CSV written by the CLI into a header and rows of cells (no quoting needed for these files). */
export function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.trimEnd().split('\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}
