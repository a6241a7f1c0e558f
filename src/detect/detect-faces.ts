/**
 * `detectFaces`: faces in a photo with the default detector (BlazeFace,
 * loaded once on first use from the installed `@vladmandic/human`).
 */
import { type Photo, decodePhoto } from '../data/photo.js';
import { loadBlazeFace } from './blazeface-node.js';
import type { DetectOptions, FaceDetection, FaceDetector } from './face-detector.js';

let shared: Promise<FaceDetector> | undefined;

/**
 * The default detector, loaded once and shared; `dispose` it only at the end of the program.
 *
 * @example
 * const detector = await defaultFaceDetector();
 */
export function defaultFaceDetector(): Promise<FaceDetector> {
  shared ??= loadBlazeFace().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** A file path, encoded bytes, or an already decoded photo. */
export type PhotoSource = string | Uint8Array | Photo;

/** Decodes a photo source (EXIF orientation applied) unless it is decoded already. */
export async function toPhoto(image: PhotoSource): Promise<Photo> {
  return typeof image === 'string' || image instanceof Uint8Array ? decodePhoto(image) : image;
}

/**
 * Every face in a photo, highest score first, boxes in the upright photo's pixels.
 *
 * @param options.detector another detector than the default BlazeFace
 * @example
 * import { detectFaces } from 'facepoints';
 * const faces = await detectFaces('group.jpg', { minFace: 40 });
 * for (const f of faces) console.log(f.score.toFixed(2), f.box); // { x, y, width, height }
 */
export async function detectFaces(
  image: PhotoSource,
  options: DetectOptions & { detector?: FaceDetector } = {},
): Promise<FaceDetection[]> {
  const photo = await toPhoto(image);
  const detector = options.detector ?? (await defaultFaceDetector());
  return detector.detect(photo.rgb, options);
}
