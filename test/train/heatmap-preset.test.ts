// The accuracy preset's soft-argmax head through the whole training stack on
// the native engine (preset options, augmentation, Adam, the wing loss), on
// the project's generated 96x96 faces: it must learn where the points are,
// well past the mean shape, within a few epochs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AugmentBatchIterator } from '../../src/augment/augment-batch-iterator.js';
import { rmseInPixels } from '../../src/data/scaling.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { loadNativeEngine } from '../../src/engine/native/native-engine.js';
import { presetTraining } from '../../src/nn/presets.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { presetNetOptions } from '../../src/train/preset-options.js';
import { skipNative } from '../engines.js';

test('conv8-bn-heatmap learns generated faces on the native engine', { skip: skipNative }, async () => {
  const faces = generateFaces({ count: 400, seed: 11, schema: 'kaggle15' });
  const outputs = kaggle15.columns.length;
  const net = new NeuralNet(
    presetNetOptions('conv8-bn-heatmap', {
      outputs,
      flipPairs: kaggle15.columnFlipPairs,
      engine: await loadNativeEngine(),
      maxEpochs: 12,
      // The preset's augmentation in batches of 32: more updates for these few faces.
      batchIteratorTrain: new AugmentBatchIterator({
        batchSize: 32,
        shuffle: true,
        flipPairs: kaggle15.columnFlipPairs,
        augment: presetTraining('conv8-bn-heatmap').augment,
      }),
    }),
  );
  await net.fit(faces.images, faces.targets);
  // The mean shape's RMSE on the same validation rows: what a net that learned nothing scores.
  const validRows = [...net.splitRows(400).valid];
  const mean = new Float64Array(outputs);
  for (const r of validRows)
    for (let c = 0; c < outputs; c++) mean[c] += faces.targets[r * outputs + c] / validRows.length;
  let squares = 0;
  for (const r of validRows)
    for (let c = 0; c < outputs; c++) squares += (faces.targets[r * outputs + c] - mean[c]) ** 2;
  const meanShape = rmseInPixels(squares / (validRows.length * outputs));

  const predictions = await net.predict(faces.images);
  let errors = 0;
  for (const r of validRows)
    for (let c = 0; c < outputs; c++)
      errors += (predictions[r * outputs + c] - faces.targets[r * outputs + c]) ** 2;
  const rmse = rmseInPixels(errors / (validRows.length * outputs));
  assert.ok(
    rmse < meanShape * 0.5,
    `validation RMSE ${rmse.toFixed(2)} px against the mean shape's ${meanShape.toFixed(2)} px`,
  );
});
