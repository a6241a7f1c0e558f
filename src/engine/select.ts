/**
 * Picks an engine. 'auto' takes the native engine when its addon is built and
 * falls back to the tfjs reference engine otherwise; asking for 'native'
 * explicitly fails with a message naming what is missing.
 */
import { ConfigError, EngineUnavailableError } from '../errors.js';
import type { Engine, EngineChoice } from './engine.js';

/**
 * @example
 * const engine = await selectEngine('auto');
 * const network = await engine.compile(spec);
 */
export async function selectEngine(choice: EngineChoice | Engine = 'auto'): Promise<Engine> {
  if (typeof choice === 'object') return choice;
  switch (choice) {
    case 'tfjs': {
      const { createTfjsEngine } = await import('./tfjs/tfjs-engine.js');
      return createTfjsEngine();
    }
    case 'native': {
      const { loadNativeEngine } = await import('./native/native-engine.js');
      return loadNativeEngine();
    }
    case 'auto': {
      try {
        const { loadNativeEngine } = await import('./native/native-engine.js');
        return await loadNativeEngine();
      } catch (error) {
        if (!(error instanceof EngineUnavailableError)) throw error;
        const { createTfjsEngine } = await import('./tfjs/tfjs-engine.js');
        return createTfjsEngine();
      }
    }
    default:
      throw new ConfigError(`unknown engine '${String(choice)}': expected 'auto', 'native' or 'tfjs'`);
  }
}
