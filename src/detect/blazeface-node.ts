/**
 * Loads BlazeFace's weights from the installed `@vladmandic/human` package
 * (`models/blazeface.json` + `blazeface.bin`), never from the network and
 * never from a copy in this repository.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { ModelFileError } from '../errors.js';
import { type GraphModelFiles, createBlazeFace } from './blazeface.js';
import type { FaceDetector } from './face-detector.js';

/** The package whose `models/` folder holds the weights, and its pinned version. */
export const BLAZEFACE_PACKAGE = '@vladmandic/human';

/** The installed package's models folder. */
export function blazeFaceModelDir(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(BLAZEFACE_PACKAGE); // <package>/dist/human.node.js
  } catch {
    throw new ModelFileError(
      BLAZEFACE_PACKAGE,
      'not installed: the face detector needs its models (npm install)',
    );
  }
  return join(dirname(dirname(entry)), 'models');
}

/** Reads a tfjs graph model's JSON and its weight shards. */
export async function readGraphModelFiles(jsonPath: string): Promise<GraphModelFiles> {
  let modelJson: GraphModelFiles['modelJson'];
  try {
    modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as GraphModelFiles['modelJson'];
  } catch (error) {
    throw new ModelFileError(jsonPath, `cannot read the model JSON (${(error as Error).message})`);
  }
  const paths = (modelJson.weightsManifest ?? []).flatMap((group) => group.paths);
  const shards = await Promise.all(
    paths.map((p) =>
      readFile(join(dirname(jsonPath), p)).catch((error: Error) => {
        throw new ModelFileError(jsonPath, `cannot read its weights ${p} (${error.message})`);
      }),
    ),
  );
  const bytes = Buffer.concat(shards);
  const weights = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  return { source: jsonPath, modelJson, weights };
}

/**
 * BlazeFace with the weights of the installed `@vladmandic/human`.
 *
 * @example
 * const detector = await loadBlazeFace();
 * const faces = await detector.detect(photo.rgb, { minFace: 40 });
 * detector.dispose();
 */
export async function loadBlazeFace(): Promise<FaceDetector> {
  const dir = blazeFaceModelDir();
  const files = await readGraphModelFiles(join(dir, 'blazeface.json'));
  let version = '';
  try {
    version = (JSON.parse(await readFile(join(dir, '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    // the name without a version is still right
  }
  return createBlazeFace(files, `blazeface (${BLAZEFACE_PACKAGE}${version ? ` ${version}` : ''})`);
}
