/** Rebuilds any built-in batch iterator from the JSON form model files keep. */
import { AugmentBatchIterator } from '../augment/augment-batch-iterator.js';
import type { BatchIterator, BatchIteratorConfig } from './batch-iterator.js';
import { batchIteratorFromConfig } from './flip-batch-iterator.js';

/**
 * @example
 * const iterator = iteratorFromConfig({ type: 'BatchIterator', batchSize: 128, shuffle: true });
 */
export function iteratorFromConfig(config: BatchIteratorConfig): BatchIterator {
  if (config.type === 'AugmentBatchIterator') return new AugmentBatchIterator(config);
  return batchIteratorFromConfig(config);
}
