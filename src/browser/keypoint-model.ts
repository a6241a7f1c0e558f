/**
 * A keypoint model in the browser: a `.fpm` file (fetched or given as
 * bytes) compiled by the tfjs engine, and the steps from a picture to points
 * on it: gray pixels, the face crop (data/crop.ts, the same as in Node),
 * the network, and the points mapped back onto the picture.
 *
 * Face boxes come from the caller, or from a `FaceDetector` plugged in at
 * load time; without either, the whole picture is taken as one face.
 */
import { type CropBox, type GrayImage, cropToFrame, pointsFromFrame, wholeImageBox } from '../data/crop.js';
import { IMAGE_SIZE, unscaleTarget } from '../data/scaling.js';
import { type KeypointSchema, getSchema } from '../data/schemas.js';
import type { Network } from '../engine/engine.js';
import { createTfjsEngine } from '../engine/tfjs/tfjs-engine.js';
import { ModelFileError } from '../errors.js';
import { parseModelFile } from '../train/model-file.js';
import { type ImageSource, grayImageOf } from './pixels.js';

/**
 * Finds faces in a picture; the boxes are squares in its pixels. A detector
 * module can implement this: it gets the gray pixels, and the original source
 * (colour) when the caller gave one rather than a GrayImage.
 */
export interface FaceDetector {
  detect(image: GrayImage, source?: ImageSource | ImageData): Promise<CropBox[]>;
}

export interface BrowserModelOptions {
  /** tfjs backend: 'wasm' (default: ~9 ms per face for net2 in headless Chromium) or 'webgl' (falls back to wasm). */
  backend?: 'wasm' | 'webgl';
  /** Where tfjs finds its .wasm files: a URL prefix ending in '/' (default: next to the script). */
  wasmPaths?: string;
  /** Finds the faces when `predictFaces` is given no boxes. */
  detector?: FaceDetector;
}

/** One named point in the picture's pixels. */
export interface Keypoint {
  name: string;
  x: number;
  y: number;
}

/** The keypoints of one face. */
export interface FacePrediction {
  box: CropBox;
  /** x,y pairs in the picture's pixels, in the model's column order. */
  points: Float64Array;
  keypoints: Keypoint[];
  /** Milliseconds this face took: crop + network + mapping back. */
  ms: number;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** A loaded model. */
export class KeypointModel {
  /** Keypoint names, one per x,y pair of the outputs. */
  readonly keypointNames: string[];

  /** Use `loadKeypointModel`. */
  constructor(
    private readonly network: Network,
    /** The model's keypoint schema. */
    readonly schema: KeypointSchema,
    /** Output columns (`left_eye_center_x`, ...). */
    readonly columns: string[],
    private readonly detector?: FaceDetector,
  ) {
    this.keypointNames = [];
    for (let i = 0; i + 1 < columns.length; i += 2) this.keypointNames.push(columns[i].replace(/_x$/, ''));
  }

  /** The engine that runs it: 'tfjs-wasm', 'tfjs-webgl' or 'tfjs-cpu'. */
  get engineName(): string {
    return this.network.engineName;
  }

  /** Per-sample input size of the network (96 * 96 for every preset). */
  get inputSize(): number {
    return this.network.spec.inputSize;
  }

  /**
   * Keypoints of 96x96 frames (values in [0, 1], row-major, `n * 9216` values), in frame pixels.
   *
   * @example
   * const points = await model.predictFrames(frame); // [x0, y0, x1, y1, ...] for each frame
   */
  async predictFrames(frames: Float32Array): Promise<Float32Array> {
    const out = await this.network.predict(frames);
    for (let i = 0; i < out.length; i++) out[i] = unscaleTarget(out[i]);
    return out;
  }

  /**
   * Keypoints of the faces in a picture: in the given boxes, else in the
   * detector's, else in the whole picture (centred square).
   *
   * @example
   * const [face] = await model.predictFaces(document.querySelector('img')!);
   * drawKeypoints(canvas.getContext('2d')!, face.points, { box: face.box });
   */
  async predictFaces(
    source: ImageSource | ImageData | GrayImage,
    boxes?: readonly CropBox[],
  ): Promise<FacePrediction[]> {
    const image = isGrayImage(source) ? source : grayImageOf(source);
    let faces = boxes ? [...boxes] : undefined;
    if (!faces && this.detector) {
      faces = await this.detector.detect(image, isGrayImage(source) ? undefined : source);
    }
    if (!faces) faces = [wholeImageBox(image.width, image.height)];
    const results: FacePrediction[] = [];
    for (const box of faces) {
      const start = now();
      const frame = cropToFrame(image, box);
      const framePoints = await this.predictFrames(frame);
      const points = pointsFromFrame(framePoints, box);
      const keypoints = this.keypointNames.map((name, k) => ({
        name,
        x: points[2 * k],
        y: points[2 * k + 1],
      }));
      results.push({ box, points, keypoints, ms: now() - start });
    }
    return results;
  }

  dispose(): void {
    this.network.dispose();
  }
}

function isGrayImage(value: unknown): value is GrayImage {
  const v = value as GrayImage;
  return (
    !!v && v.data instanceof Uint8Array && typeof v.width === 'number' && v.data.length === v.width * v.height
  );
}

/**
 * Loads a facepoints model (`.fpm`) by URL or from its bytes.
 *
 * @throws ModelFileError when the file is not a keypoint model (no schema in its metadata, or not 96x96 frames).
 * @example
 * import { loadKeypointModel, drawKeypoints } from 'facepoints/browser';
 * const model = await loadKeypointModel('model.fpm');
 * const faces = await model.predictFaces(imageElement);
 */
export async function loadKeypointModel(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: BrowserModelOptions = {},
): Promise<KeypointModel> {
  const name = typeof source === 'string' || source instanceof URL ? String(source) : '(model bytes)';
  let bytes: Uint8Array;
  if (typeof source === 'string' || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) throw new ModelFileError(name, `cannot fetch: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } else {
    bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  }
  const content = parseModelFile(bytes, name);
  const metadata = content.metadata as { schema?: unknown; columns?: unknown };
  let schema: KeypointSchema;
  try {
    schema = getSchema(String(metadata.schema));
  } catch {
    throw new ModelFileError(
      name,
      'the model does not say which keypoints it predicts (no schema in its metadata)',
    );
  }
  const engine = await createTfjsEngine({
    backend: options.backend ?? 'wasm',
    ...(options.wasmPaths !== undefined ? { wasmPaths: options.wasmPaths } : {}),
  });
  const network = await engine.compile(content.spec);
  if (network.spec.inputSize !== IMAGE_SIZE * IMAGE_SIZE) {
    network.dispose();
    throw new ModelFileError(
      name,
      `the network reads ${network.spec.inputSize} values, not a ${IMAGE_SIZE}x${IMAGE_SIZE} frame`,
    );
  }
  await network.setWeights(content.weights);
  const columns = Array.isArray(metadata.columns) ? metadata.columns.map(String) : schema.columns;
  if (columns.length !== network.spec.outputSize) {
    network.dispose();
    throw new ModelFileError(
      name,
      `metadata names ${columns.length} columns for ${network.spec.outputSize} outputs`,
    );
  }
  return new KeypointModel(network, schema, columns, options.detector);
}
