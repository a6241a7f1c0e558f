/** The built-in callbacks, and rebuilding them from model files. */
import { ConfigError } from '../../errors.js';
import { AdjustVariable } from './adjust-variable.js';
import { Checkpoint } from './checkpoint.js';
import { EarlyStopping } from './early-stopping.js';
import { PrintLog } from './print-log.js';
import type { Callback, CallbackConfig } from './types.js';

export { AdjustVariable, linspace, type ScheduleContinuation } from './adjust-variable.js';
export { Checkpoint, type CheckpointOptions } from './checkpoint.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { PrintLog, formatHeader, formatRow, type PrintLogOptions, type TextSink } from './print-log.js';
export type { BatchInfo, Callback, CallbackConfig, CallbackLike, Handler, StopReason } from './types.js';

/** Rebuilds a built-in callback from the JSON form a model file keeps. */
export function callbackFromConfig(config: CallbackConfig): Callback {
  switch (config.type) {
    case 'AdjustVariable':
      return new AdjustVariable(config.name, config.start, config.stop, config.from);
    case 'EarlyStopping':
      return new EarlyStopping(config);
    case 'Checkpoint':
      return new Checkpoint(config);
    case 'PrintLog':
      return new PrintLog();
    default:
      throw new ConfigError(`unknown callback type '${(config as { type: string }).type}' in model file`);
  }
}
