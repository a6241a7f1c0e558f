/**
 * Photos as users have them: PNG or JPEG of any size, colour or gray, with
 * alpha or not, possibly rotated by an EXIF orientation tag. One decode gives
 * the upright RGB image a face detector reads and the grayscale image the
 * keypoint nets read (the same luminance `decodeImage` gives the importer).
 */
import { DataFormatError } from '../errors.js';
import type { GrayImage } from './crop.js';

/** A decoded colour photo: 8-bit RGB, row-major, 3 bytes a pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An upright photo in both forms. */
export interface Photo {
  width: number;
  height: number;
  rgb: RgbImage;
  gray: GrayImage;
}

/**
 * Decodes a photo by its content, applying its EXIF orientation (sharp's
 * `.rotate()`), alpha flattened onto black.
 *
 * @throws DataFormatError naming the file when it is not an image sharp reads.
 * @example
 * const photo = await decodePhoto('holiday.jpg'); // { width, height, rgb, gray }, upright
 */
export async function decodePhoto(source: string | Uint8Array): Promise<Photo> {
  const { default: sharp } = await import('sharp');
  const file = typeof source === 'string' ? source : undefined;
  try {
    const upright = sharp(source, { failOn: 'error' }).rotate().flatten({ background: '#000000' });
    const [rgb, gray] = await Promise.all([
      upright.clone().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true }),
      upright.clone().grayscale().raw().toBuffer({ resolveWithObject: true }),
    ]);
    const asBytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);
    let rgbData = asBytes(rgb.data);
    if (rgb.info.channels === 1) {
      // sharp keeps a gray PNG single-channel; the detector wants three.
      const spread = new Uint8Array(rgbData.length * 3);
      for (let i = 0; i < rgbData.length; i++) spread.fill(rgbData[i], 3 * i, 3 * i + 3);
      rgbData = spread;
    } else if (rgb.info.channels !== 3) {
      throw new Error(`decoded to ${rgb.info.channels} channels`);
    }
    if (gray.info.channels !== 1) throw new Error(`decoded to ${gray.info.channels} gray channels`);
    const { width, height } = gray.info;
    return {
      width,
      height,
      rgb: { width, height, data: rgbData },
      gray: { width, height, data: asBytes(gray.data) },
    };
  } catch (error) {
    throw new DataFormatError(
      `cannot decode image: ${(error as Error).message} (expected a PNG or JPEG file)`,
      { file },
    );
  }
}
