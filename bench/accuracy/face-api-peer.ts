/**
 * The peer of the accuracy benchmark: `@vladmandic/face-api` 1.7.15's
 * 68-point landmark net (weights from its own npm tarball), run on the
 * project's own `@tensorflow/tfjs` with the wasm backend, given the same
 * square crop our crop rule makes (in colour, 112x112, the net's input size).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import sharp from 'sharp';

import { type CropBox, type GrayImage, cropToFrame } from '../../src/data/crop.js';
import { IMAGE_SIZE } from '../../src/data/scaling.js';

const require = createRequire(import.meta.url);
/** The landmark net's input side. */
const INPUT = 112;

interface Point {
  x: number;
  y: number;
}
interface FaceApi {
  tf: {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    tensor3d(values: Float32Array, shape: [number, number, number]): { dispose(): void };
    getBackend(): string;
    version_core: string;
  };
  nets: {
    faceLandmark68Net: {
      loadFromDisk(dir: string): Promise<void>;
      detectLandmarks(input: unknown): Promise<{ positions: Point[] } | { positions: Point[] }[]>;
    };
  };
}

export interface FaceApiPeer {
  /** tfjs version and backend it runs on. */
  runtime: string;
  /** 68 points per face in 96x96 frame pixels, for faces given as (image path, crop box). */
  predict(
    faces: { path: string; box: CropBox }[],
    onProgress?: (done: number) => void,
  ): Promise<Float64Array>;
}

/** Decodes an image into its three colour channels. */
async function decodeRgb(path: string): Promise<GrayImage[]> {
  const { data, info } = await sharp(path)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const channels = info.channels;
  return [0, 1, 2].map((c) => {
    const plane = new Uint8Array(n);
    for (let i = 0; i < n; i++) plane[i] = data[i * channels + Math.min(c, channels - 1)];
    return { width: info.width, height: info.height, data: plane };
  });
}

/** The crop as the net's HWC input, values 0..255. */
async function cropRgb(path: string, box: CropBox): Promise<Float32Array> {
  const planes = (await decodeRgb(path)).map((p) => cropToFrame(p, box, { size: INPUT }));
  const out = new Float32Array(INPUT * INPUT * 3);
  for (let i = 0; i < INPUT * INPUT; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = planes[c][i] * 255;
  return out;
}

/**
 * @example
 * const peer = await loadFaceApiPeer();
 * const points = await peer.predict([{ path: 'face.jpg', box: faceCropBox(labels) }]);
 */
export async function loadFaceApiPeer(): Promise<FaceApiPeer> {
  // The node-wasm build requires '@tensorflow/tfjs' and '@tensorflow/tfjs-backend-wasm': the project's own copies.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  await faceapi.tf.setBackend('wasm');
  await faceapi.tf.ready();
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const net = faceapi.nets.faceLandmark68Net;
  await net.loadFromDisk(modelDir);
  return {
    runtime: `tfjs ${faceapi.tf.version_core}, ${faceapi.tf.getBackend()} backend`,
    async predict(faces, onProgress) {
      const out = new Float64Array(faces.length * 136);
      const scale = IMAGE_SIZE / INPUT;
      for (let i = 0; i < faces.length; i++) {
        const input = faceapi.tf.tensor3d(await cropRgb(faces[i].path, faces[i].box), [INPUT, INPUT, 3]);
        const result = await net.detectLandmarks(input);
        input.dispose();
        const positions = (Array.isArray(result) ? result[0] : result).positions;
        // Input pixel centres -> frame pixel centres (both with centres at integers).
        positions.forEach((p, k) => {
          out[i * 136 + 2 * k] = (p.x + 0.5) * scale - 0.5;
          out[i * 136 + 2 * k + 1] = (p.y + 0.5) * scale - 0.5;
        });
        onProgress?.(i + 1);
      }
      return out;
    },
  };
}
