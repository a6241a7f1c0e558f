/**
 * Loading a trained model for predict, evaluate and submit, with the
 * keypoint columns its metadata names (written by every training run).
 */
import { type KeypointSchema, getSchema } from '../data/schemas.js';
import type { EngineChoice } from '../engine/engine.js';
import { ModelFileError } from '../errors.js';
import type { ModelMetadata } from '../runs/train-run.js';
import { NeuralNet } from '../train/neural-net.js';

export interface LoadedModel {
  net: NeuralNet;
  schema: KeypointSchema;
  /** The target columns the net outputs, in order. */
  columns: string[];
  metadata: ModelMetadata;
}

/**
 * @throws ModelFileError for an unreadable file or one without keypoint metadata,
 *   and when `expectSchema` is given and the model predicts another schema.
 * @example
 * const { net, schema } = await loadModel('runs/net1/model-best.fpm', { engine: 'auto', expectSchema: 'kaggle15' });
 */
export async function loadModel(
  path: string,
  options: { engine?: EngineChoice; expectSchema?: string } = {},
): Promise<LoadedModel> {
  const net = await NeuralNet.load(path, {
    engine: options.engine ?? 'auto',
    handleInterrupt: false,
    verbose: 0,
  });
  const metadata = net.metadata as Partial<ModelMetadata>;
  if (typeof metadata.schema !== 'string' || !Array.isArray(metadata.columns)) {
    net.dispose();
    throw new ModelFileError(
      path,
      'the model does not say which keypoints it predicts (no schema in its metadata)',
    );
  }
  let schema: KeypointSchema;
  try {
    schema = getSchema(metadata.schema);
  } catch {
    net.dispose();
    throw new ModelFileError(path, `unknown keypoint schema "${metadata.schema}" in its metadata`);
  }
  if (options.expectSchema && schema.name !== options.expectSchema) {
    net.dispose();
    throw new ModelFileError(
      path,
      `the model predicts ${schema.name} keypoints, but the data is ${options.expectSchema}`,
    );
  }
  if (metadata.columns.length !== net.resolvedSpec.outputSize) {
    net.dispose();
    throw new ModelFileError(
      path,
      `metadata names ${metadata.columns.length} columns for ${net.resolvedSpec.outputSize} outputs`,
    );
  }
  return { net, schema, columns: metadata.columns as string[], metadata: metadata as ModelMetadata };
}
