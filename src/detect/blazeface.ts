/**
 * BlazeFace (MediaPipe's short-range face detector, "back" variant with a
 * 256x256 input), run with the project's own @tensorflow/tfjs. The weights
 * are not ours: they ship in `@vladmandic/human` (model Apache-2.0 by
 * Google, package MIT) and are given to `createBlazeFace` as parsed JSON and
 * bytes; `loadBlazeFace` (blazeface-node.ts) reads them from the installed
 * package. This module has no Node imports, so a page can give it fetched
 * files. Anchor decoding and non-max suppression are ours
 * (blazeface-anchors.ts, `tf.image.nonMaxSuppression`).
 */
import * as tf from '@tensorflow/tfjs';

import { createTfjsEngine } from '../engine/tfjs/tfjs-engine.js';
import { ModelFileError } from '../errors.js';
import {
  BLAZEFACE_INPUT_SIZE,
  BLAZEFACE_LANDMARKS,
  BLAZEFACE_REGRESSORS,
  blazeFaceAnchors,
  decodeBlazeFace,
} from './blazeface-anchors.js';
import type { DetectOptions, FaceDetection, FaceDetector, RgbImage } from './face-detector.js';

/** The files of a tfjs graph model: model.json parsed, and its weight shards' bytes in manifest order. */
export interface GraphModelFiles {
  /** Where the files came from, for error messages. */
  source: string;
  modelJson: {
    modelTopology?: unknown;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
  };
  weights: ArrayBuffer;
}

/** Default lowest score kept. */
export const BLAZEFACE_MIN_SCORE = 0.5;
/** Overlap above which non-max suppression drops the weaker of two boxes. */
export const BLAZEFACE_IOU_THRESHOLD = 0.3;
const DEFAULT_MAX_FACES = 20;
/** Candidates non-max suppression may keep before the size and count filters. */
const NMS_CANDIDATES = 100;

/**
 * A BlazeFace detector from the model's files.
 *
 * @throws ModelFileError when the files are not BlazeFace's graph model.
 * @example
 * const detector = await createBlazeFace({ source: 'blazeface.json', modelJson, weights });
 * const faces = await detector.detect({ width, height, data: rgb }); // [{ box, score, landmarks }]
 */
export async function createBlazeFace(files: GraphModelFiles, name = 'blazeface'): Promise<FaceDetector> {
  const engine = await createTfjsEngine(); // activates the wasm backend (cpu where wasm cannot load)
  const backend = engine.name.replace(/^tfjs-/, '');
  const { modelJson } = files;
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new ModelFileError(files.source, 'not a tfjs graph model (no modelTopology or weightsManifest)');
  }
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
        weightData: files.weights,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      }),
    );
  } catch (error) {
    throw new ModelFileError(files.source, `cannot load the graph model: ${(error as Error).message}`);
  }
  const anchors = blazeFaceAnchors();
  const anchorCount = anchors.length / 2;
  const inputShape = model.inputs[0]?.shape;
  if (inputShape?.[1] !== BLAZEFACE_INPUT_SIZE || inputShape?.[2] !== BLAZEFACE_INPUT_SIZE) {
    model.dispose();
    throw new ModelFileError(files.source, `expected a 1x256x256x3 input, got ${JSON.stringify(inputShape)}`);
  }
  let disposed = false;

  /** Runs the net on the letterboxed photo: per-anchor regressors (anchor order) and logits. */
  async function forward(image: RgbImage): Promise<{ regressors: Float32Array; logits: Float32Array }> {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    const side = Math.max(image.width, image.height);
    const outputs = tf.tidy(() => {
      const pixels = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32').toFloat();
      // Letterbox: the photo at the top left of a square, so one scale maps back to it.
      const square = tf.pad(pixels, [
        [0, side - image.height],
        [0, side - image.width],
        [0, 0],
      ]);
      const resized = tf.image.resizeBilinear(
        square as tf.Tensor3D,
        [BLAZEFACE_INPUT_SIZE, BLAZEFACE_INPUT_SIZE],
        false,
        true,
      );
      const input = resized.div(127.5).sub(1).expandDims(0);
      return model.execute(input) as tf.Tensor[];
    });
    try {
      // Outputs by shape: [1, n, 16] regressors and [1, n, 1] logits for n = 512 (stride 16) and 384 (stride 32).
      const pick = (n: number, width: number) => {
        const t = outputs.find((o) => o.shape[1] === n && o.shape[2] === width);
        if (!t) throw new ModelFileError(files.source, `no [1, ${n}, ${width}] output`);
        return t;
      };
      const [reg16, reg32, log16, log32] = await Promise.all([
        pick(512, BLAZEFACE_REGRESSORS).data() as Promise<Float32Array>,
        pick(384, BLAZEFACE_REGRESSORS).data() as Promise<Float32Array>,
        pick(512, 1).data() as Promise<Float32Array>,
        pick(384, 1).data() as Promise<Float32Array>,
      ]);
      const regressors = new Float32Array(anchorCount * BLAZEFACE_REGRESSORS);
      regressors.set(reg16);
      regressors.set(reg32, reg16.length);
      const logits = new Float32Array(anchorCount);
      logits.set(log16);
      logits.set(log32, log16.length);
      return { regressors, logits };
    } finally {
      tf.dispose(outputs);
    }
  }

  return {
    name,
    async detect(image: RgbImage, options: DetectOptions = {}): Promise<FaceDetection[]> {
      if (disposed) throw new Error('detect() after dispose()');
      if (image.data.length !== image.width * image.height * 3) {
        throw new RangeError(
          `RGB image data has ${image.data.length} bytes, expected ${image.width}x${image.height}x3`,
        );
      }
      const minScore = options.minScore ?? BLAZEFACE_MIN_SCORE;
      const minFace = options.minFace ?? 0;
      const maxFaces = options.maxFaces ?? DEFAULT_MAX_FACES;
      const { regressors, logits } = await forward(image);
      const { boxes, landmarks } = decodeBlazeFace(regressors, anchors);
      const scores = logits.map((l) => 1 / (1 + Math.exp(-l)));
      const boxesT = tf.tensor2d(boxes, [anchorCount, 4]);
      const scoresT = tf.tensor1d(scores);
      let kept: Int32Array;
      try {
        const nms = await tf.image.nonMaxSuppressionAsync(
          boxesT,
          scoresT,
          NMS_CANDIDATES,
          BLAZEFACE_IOU_THRESHOLD,
          minScore,
        );
        kept = (await nms.data()) as Int32Array;
        nms.dispose();
      } finally {
        boxesT.dispose();
        scoresT.dispose();
      }
      // Input pixels -> photo pixels: the resize's continuous coordinates scale by side / 256;
      // a box edge at continuous u is the box whose first pixel is u (pixel i covers [i - 0.5, i + 0.5]).
      const k = Math.max(image.width, image.height) / BLAZEFACE_INPUT_SIZE;
      const faces: FaceDetection[] = [];
      for (const i of kept) {
        const [y1, x1, y2, x2] = boxes.subarray(i * 4, i * 4 + 4);
        const box = { x: x1 * k, y: y1 * k, width: (x2 - x1) * k, height: (y2 - y1) * k };
        if (Math.max(box.width, box.height) < minFace) continue;
        const points = new Float64Array(BLAZEFACE_LANDMARKS * 2);
        for (let p = 0; p < points.length; p++) {
          points[p] = landmarks[i * BLAZEFACE_LANDMARKS * 2 + p] * k - 0.5;
        }
        faces.push({ box, score: scores[i], landmarks: points });
        if (faces.length >= maxFaces) break;
      }
      return faces;
    },
    dispose() {
      if (!disposed) model.dispose();
      disposed = true;
    },
  };
}
