/**
 * Benchmark: read a realistic Kaggle training.csv (7049 rows x 9216 pixels,
 * ~230 MB) with readKaggleCsv. The file is generated in a temp folder from
 * synthetic faces, with the real label file's pattern of missing values when
 * ../shared/data is present (else ~70 % incomplete rows, as in Kaggle's).
 * Also times csv-parse on the same file, the reason the reader is hand-written.
 *
 *   node --import tsx bench/read-kaggle-csv.ts [--skip-csv-parse]
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse';
import { readKaggleCsv, writeKaggleCsv } from '../src/data/kaggle-csv.js';
import { countComplete } from '../src/data/dataset.js';
import { generateFaces } from '../src/data/synthetic-faces.js';
import { Rng } from '../src/random/rng.js';

const ROWS = 7049;
const labelsPath = resolve(
  import.meta.dirname,
  '..',
  '..',
  'shared',
  'data',
  'kaggle',
  'training_labels_only.csv',
);

async function missingMask(): Promise<{ mask: Uint8Array; source: string }> {
  const mask = new Uint8Array(ROWS * 30);
  if (existsSync(labelsPath)) {
    const labels = await readKaggleCsv(labelsPath);
    for (let i = 0; i < mask.length && i < labels.targets.length; i++)
      mask[i] = Number.isNaN(labels.targets[i]) ? 1 : 0;
    return { mask, source: 'real label file' };
  }
  const rng = new Rng(1, 'missing');
  for (let r = 0; r < ROWS; r++) {
    if (rng.next() < 0.7)
      for (let c = 4; c < 30; c++) if (c < 20 || c > 21) mask[r * 30 + c] = c < 28 ? 1 : 0;
  }
  return { mask, source: 'synthetic pattern' };
}

async function time<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`${what}: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return result;
}

const dir = await mkdtemp(join(tmpdir(), 'facepoints-bench-'));
try {
  const path = join(dir, 'training.csv');
  const faces = await time(`generate ${ROWS} synthetic faces`, async () =>
    generateFaces({ count: ROWS, seed: 1 }),
  );
  const { mask, source } = await missingMask();
  mask.forEach((m, i) => (m ? (faces.targets[i] = NaN) : 0));
  await time('write training.csv', () => writeKaggleCsv(path, faces, { includeIds: false }));
  const size = (await stat(path)).size;
  console.log(`file: ${(size / 2 ** 20).toFixed(0)} MiB, ${ROWS} rows, missing values from the ${source}`);

  for (let run = 1; run <= 3; run++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const data = await readKaggleCsv(path);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    // CPU time too: on a shared machine the wall time also counts other processes' turns.
    console.log(
      `readKaggleCsv run ${run}: ${seconds.toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU ` +
        `(${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s), ${data.count} rows, ${countComplete(data)} complete`,
    );
  }
  await time(
    'readKaggleCsv dropIncomplete',
    async () => (await readKaggleCsv(path, { dropIncomplete: true })).count,
  );

  if (!process.argv.includes('--skip-csv-parse')) {
    // csv-parse only splits fields here; turning 9216 numbers into floats would come on top.
    await time('csv-parse, fields only (for comparison)', async () => {
      let rows = 0;
      for await (const record of createReadStream(path).pipe(parse({ from_line: 2 })))
        rows += (record as string[]).length > 0 ? 1 : 0;
      return rows;
    });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
