/**
 * facepoints in the browser (`import ... from 'facepoints/browser'`): load
 * a model trained with facepoints, predict keypoints of faces in an image,
 * a canvas or a video frame, and draw them. Runs tfjs on its wasm backend
 * (webgl on request); nothing here imports a Node module.
 *
 * @example
 * import { loadKeypointModel, drawKeypoints } from 'facepoints/browser';
 *
 * const model = await loadKeypointModel('/models/net2.fpm');
 * const [face] = await model.predictFaces(video);             // the whole frame, or pass boxes
 * const context = canvas.getContext('2d')!;
 * context.drawImage(video, 0, 0);
 * drawKeypoints(context, face.points, { box: face.box });
 */
export {
  loadKeypointModel,
  KeypointModel,
  type BrowserModelOptions,
  type FaceDetector,
  type FacePrediction,
  type Keypoint,
} from './keypoint-model.js';
export { drawKeypoints, POINT_COLOR, BOX_COLOR, type DrawOptions } from './draw.js';
export { grayImageOf, grayFromRgba, sourceSize, type ImageSource } from './pixels.js';
export { pointsToJson, pointsToCsv } from './points-file.js';
export {
  cropToFrame,
  faceCropBox,
  pointsFromFrame,
  pointsToFrame,
  wholeImageBox,
  type CropBox,
  type GrayImage,
} from '../data/crop.js';
export { IMAGE_SIZE, unscaleTarget, scaleTarget } from '../data/scaling.js';
export { getSchema, kaggle15, ibug68, type KeypointSchema } from '../data/schemas.js';
export { parseModelFile } from '../train/model-file.js';
export { FacepointsError, ModelFileError } from '../errors.js';
/** The tfjs this module runs on, e.g. to load a model exported with `facepoints export --format tfjs`. */
export * as tf from '@tensorflow/tfjs';
