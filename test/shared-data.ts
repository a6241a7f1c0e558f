/**
 * Where the real data sets live: /work/shared/data next to the repository,
 * i.e. `../shared/data` from the repo root. Tests that read it skip with a
 * message when it is absent.
 */
import { resolve } from 'node:path';

export const SHARED_DATA = resolve(import.meta.dirname, '..', '..', 'shared', 'data');
