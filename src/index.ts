/**
 * facepoints: train convolutional networks that find facial keypoints, the
 * 2014 Lasagne/nolearn tutorial's system in TypeScript.
 *
 * @example
 * import { NeuralNet, generateFaces, presetNetOptions, kaggle15 } from 'facepoints';
 *
 * const faces = generateFaces({ count: 400, seed: 1, schema: 'kaggle15' });
 * const net = new NeuralNet({ ...presetNetOptions('net1', { outputs: 30, flipPairs: kaggle15.columnFlipPairs }), maxEpochs: 20 });
 * await net.fit(faces.images, faces.targets);
 * await net.save('net1.fpm');
 */

// Errors
export {
  FacepointsError,
  DataFormatError,
  ShapeError,
  ModelFileError,
  EngineUnavailableError,
  ConfigError,
} from './errors.js';
export { TrainingDivergedError } from './train/diverged-error.js';
export { OutputError } from './io/output-error.js';

// Engines
export type {
  Engine,
  EngineChoice,
  Network,
  NamedTensor,
  StepHyperparams,
  TrainStepOptions,
  CompileOptions,
} from './engine/engine.js';
export { selectEngine } from './engine/select.js';
export { createTfjsEngine, type TfjsEngineOptions, type TfjsBackendName } from './engine/tfjs/tfjs-engine.js';
export { loadNativeEngine, nativeEngineAvailable, type NativeEngine } from './engine/native/native-engine.js';

// Networks
export {
  resolveSpec,
  sizeOf,
  type NetworkSpec,
  type LayerSpec,
  type ResolvedSpec,
  type ResolvedLayer,
  type Activation,
  weightInfos,
  type WeightInfo,
} from './nn/spec.js';
export { softArgmaxGrid, softArgmaxCentres, type SoftArgmaxLayerSpec } from './nn/layers/soft-argmax.js';
export { initWeights } from './nn/init.js';
export {
  resolveLoss,
  parseLoss,
  LOSS_KINDS,
  type LossSpec,
  type LossKind,
  type ResolvedLoss,
} from './nn/loss.js';
export {
  OPTIMIZER_NAMES,
  ADAM_DEFAULTS,
  NESTEROV_DEFAULTS,
  optimizerStateShapes,
  type OptimizerName,
} from './nn/optimizer.js';
export {
  presetSpec,
  presetTraining,
  PRESET_NAMES,
  type PresetName,
  type PresetTraining,
} from './nn/presets.js';
export { Rng } from './random/rng.js';

// Training
export { NeuralNet, type NeuralNetOptions, type LoadOptions } from './train/neural-net.js';
export { meanTargets, OUTPUT_BIAS_RULES, type OutputBias } from './train/output-bias.js';
export { makeEpochRecord, historyToJson, historyFromJson, type EpochRecord } from './train/history.js';
export {
  BatchIterator,
  type BatchIteratorOptions,
  type BatchContext,
  type TransformContext,
  type Batch,
} from './train/batch-iterator.js';
export {
  FlipBatchIterator,
  flipSamples,
  checkFlipPairs,
  type FlipBatchIteratorOptions,
} from './train/flip-batch-iterator.js';
export { TrainSplit, type TrainSplitOptions } from './train/train-split.js';
export {
  AdjustVariable,
  linspace,
  EarlyStopping,
  PrintLog,
  Checkpoint,
  type EarlyStoppingOptions,
  type PrintLogOptions,
  type CheckpointOptions,
  type Callback,
  type Handler,
  type BatchInfo,
  type StopReason,
} from './train/callbacks/index.js';
export { parseModelFile, serializeModelFile, type ModelContent } from './train/model-file.js';
export { readModelFile, writeModelFile } from './train/model-file-node.js';
export { matchParams, type ParamsReport } from './train/params-transfer.js';
export { presetNetOptions, type PresetNetOptions } from './train/preset-options.js';
export { SPECIALIST_GROUPS, groupColumns, type SpecialistGroup } from './train/specialist-groups.js';

// Evaluation and prediction
export { keypointMetrics, type KeypointMetrics, type KeypointError } from './eval/keypoint-metrics.js';
export { loadPredictor, type Predictor } from './predict/predictor.js';

// Data
export {
  IMAGE_SIZE,
  TARGET_CENTER,
  TARGET_SCALE,
  scaleTarget,
  unscaleTarget,
  rmseInPixels,
} from './data/scaling.js';
export {
  kaggle15,
  ibug68,
  getSchema,
  SCHEMA_NAMES,
  IBUG68_TO_KAGGLE15,
  mapIbug68ToKaggle15,
  swapFlipPairs,
  type KeypointSchema,
  type SchemaName,
} from './data/schemas.js';
export {
  PIXELS_PER_IMAGE,
  countComplete,
  presentCounts,
  isCompleteRow,
  subsetDataset,
  dropIncompleteRows,
  checkDataset,
  type KeypointDataset,
} from './data/dataset.js';
export { readKaggleCsv, readKaggleTestCsv, writeKaggleCsv } from './data/kaggle-csv.js';
export { writeSubmission, readLookupTable } from './data/submission.js';
export {
  faceCropBox,
  FACE_CROP_MARGIN,
  jitterBox,
  cropToFrame,
  pointsToFrame,
  pointsFromFrame,
  decodeImage,
  type CropBox,
  type GrayImage,
  type CropJitter,
} from './data/crop.js';
export { importLandmarks } from './data/import/import-landmarks.js';
export { readLandmarkCsv, parsePts, readPts } from './data/import/landmark-files.js';
export { identityOf } from './data/identity.js';
export { generateFaces } from './data/synthetic-faces.js';
export { writeContactSheet, contactSheetSize } from './data/contact-sheet.js';

// Figures and run records
export { renderLossCurvesSvg, writeLossCurves, type LossSeries } from './plot/loss-curves.js';
export {
  trainRun,
  describeTrainingRows,
  type TrainRunOptions,
  type TrainRunResult,
} from './runs/train-run.js';
export { resumeRun, type ResumeRunOptions, type ResumeRunResult } from './runs/resume-run.js';
export {
  trainSpecialists,
  type TrainSpecialistsOptions,
  type TrainSpecialistsResult,
} from './runs/specialists.js';
export { loadDataSource } from './data/data-source.js';
export { RunFolder, type RunRecord } from './runs/run-folder.js';
export { checkTrainingData } from './runs/train-run.js';

// Photos: face detection, calibrated crops, keypoints of every face (docs/photos.md)
export { decodePhoto, type Photo, type RgbImage } from './data/photo.js';
export {
  boxIou,
  type FaceDetector,
  type FaceDetection,
  type FaceBox,
  type DetectOptions,
} from './detect/face-detector.js';
export { detectFaces, defaultFaceDetector, type PhotoSource } from './detect/detect-faces.js';
export { loadBlazeFace } from './detect/blazeface-node.js';
export { createBlazeFace, type GraphModelFiles } from './detect/blazeface.js';
export {
  fitCropCalibration,
  calibratedCropBox,
  matchingJitter,
  type CropCalibration,
} from './detect/calibration.js';
export { BLAZEFACE_CALIBRATION } from './detect/blazeface-calibration.js';
export { calibrateDetector } from './detect/calibrate.js';
export {
  predictPhoto,
  type PhotoFace,
  type PhotoPrediction,
  type PredictPhotoOptions,
} from './predict/predict-photo.js';
export { photoResultsCsv, photoResultsJson, type PhotoResult } from './predict/photo-output.js';
export {
  evaluateEndToEnd,
  predictorKeypointer,
  faceNme,
  type EndToEndMetrics,
  type PhotoKeypointer,
} from './eval/end-to-end.js';
export { landmarkBox, matchDetection, DETECTION_MIN_IOU } from './eval/face-matching.js';
export { landmarkRecords } from './data/import/import-landmarks.js';

// Export to other runtimes (docs/export.md), and the server of the browser page (docs/browser.md)
export {
  exportOnnx,
  exportTfjs,
  writeExport,
  UnsupportedLayerError,
  ONNX_INPUT,
  ONNX_OUTPUT,
  type ExportFormat,
  type ExportMetadata,
  type TfjsExport,
  type TfjsModelJson,
} from './export/index.js';
export { startServer, type ServeOptions, type RunningServer } from './serve/server.js';
