/**
 * Browser pixels -> the GrayImage that the face crop (data/crop.ts) reads.
 * Conversion matches `decodeImage` in Node for gray images exactly: a gray
 * pixel keeps its value, alpha is flattened onto black, colour becomes
 * luminance (Rec. 601 weights).
 */
import type { GrayImage } from '../data/crop.js';

/** Anything a page can draw: an <img>, a <canvas>, a <video> frame, an ImageBitmap, an OffscreenCanvas. */
export type ImageSource =
  HTMLImageElement | HTMLCanvasElement | HTMLVideoElement | ImageBitmap | OffscreenCanvas;

/** The natural size of an image source (a video's frame size, not its size on the page). */
export function sourceSize(source: ImageSource): { width: number; height: number } {
  if (typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement) {
    return { width: source.videoWidth, height: source.videoHeight };
  }
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    return { width: source.naturalWidth, height: source.naturalHeight };
  }
  return { width: source.width, height: source.height };
}

/** RGBA bytes (as canvas ImageData holds them) -> 8-bit gray. */
export function grayFromRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < data.length; i++, p += 4) {
    const luma = 0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2];
    data[i] = Math.round((luma * rgba[p + 3]) / 255);
  }
  return { width, height, data };
}

/**
 * The gray pixels of an image source, at its natural size.
 *
 * @example
 * const image = grayImageOf(document.querySelector('img')!);
 * const frame = cropToFrame(image, { x: 0, y: 0, size: image.width });
 */
export function grayImageOf(source: ImageSource | ImageData): GrayImage {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    return grayFromRgba(source.data, source.width, source.height);
  }
  const { width, height } = sourceSize(source as ImageSource);
  if (!(width > 0 && height > 0))
    throw new Error('the image has no pixels yet (not loaded, or a video not started)');
  const canvas =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true }) as
    CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new Error('no 2d canvas context');
  context.drawImage(source as CanvasImageSource, 0, 0);
  return grayFromRgba(context.getImageData(0, 0, width, height).data, width, height);
}
