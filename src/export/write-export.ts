/**
 * Node side of export: reads a model file (or a run folder's best model)
 * and writes the exported files into a folder, each one atomically.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

import { writeFileAtomic } from '../io/atomic-write.js';
import { FACEPOINTS_VERSION } from '../runs/run-folder.js';
import { readModelFile } from '../train/model-file-node.js';
import type { ExportFormat } from './export-plan.js';
import { exportOnnx } from './onnx.js';
import { exportTfjs } from './tfjs-layers.js';

/** Name of the ONNX file `writeExport` writes. */
export const ONNX_FILE = 'model.onnx';
/** Name of the tfjs topology file `writeExport` writes (shards sit beside it). */
export const TFJS_FILE = 'model.json';

/** A model file, or a run folder's model-best.fpm. */
async function modelPathOf(path: string): Promise<string> {
  try {
    if ((await stat(path)).isDirectory()) return join(path, 'model-best.fpm');
  } catch {
    // readModelFile names the missing file.
  }
  return path;
}

/**
 * Exports a model into `outDir` and resolves to the paths written.
 *
 * @throws ModelFileError for an unreadable model, UnsupportedLayerError for a layer the format cannot hold.
 * @example
 * await writeExport('runs/net2/model-best.fpm', 'onnx', 'exported/'); // ['exported/model.onnx']
 */
export async function writeExport(model: string, format: ExportFormat, outDir: string): Promise<string[]> {
  const content = await readModelFile(await modelPathOf(model));
  const generatedBy = `facepoints ${FACEPOINTS_VERSION}`;
  if (format === 'onnx') {
    const path = join(outDir, ONNX_FILE);
    await writeFileAtomic(path, exportOnnx(content, { producerVersion: FACEPOINTS_VERSION }));
    return [path];
  }
  const { modelJson, shards } = exportTfjs(content, { generatedBy });
  const written: string[] = [];
  // Shards first: model.json appears only once the weights it names are in place.
  for (const shard of shards) {
    const path = join(outDir, shard.name);
    await writeFileAtomic(path, shard.bytes);
    written.push(path);
  }
  const path = join(outDir, TFJS_FILE);
  await writeFileAtomic(path, `${JSON.stringify(modelJson)}\n`);
  return [path, ...written];
}
