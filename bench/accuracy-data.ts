/**
 * Writes the accuracy benchmark's training faces (the identity split's
 * training side, 68 points, with 128x128 Context crops for augmentation) as a
 * CSV that `facepoints train` reads. The validation faces are never written:
 * `npm run bench:accuracy` rebuilds the same split itself.
 *
 *   node --import tsx bench/accuracy-data.ts --data ../shared/data/udacity --out /tmp/udacity-train.csv
 */
import { parseArgs } from 'node:util';

import { writeKaggleCsv } from '../src/data/kaggle-csv.js';
import { loadUdacitySplit } from './accuracy/udacity.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/udacity' },
    out: { type: 'string' },
    'context-size': { type: 'string', default: '128' },
  },
});
if (!values.out) throw new Error('give --out FILE.csv');
const contextSize = Number(values['context-size']);
const faces = await loadUdacitySplit(values.data!, contextSize > 96 ? { contextSize } : {});
await writeKaggleCsv(values.out, faces.train, { includeIds: true });
console.log(
  `wrote ${faces.train.count} training faces (${faces.identities.train} identities) to ${values.out}; ` +
    `${faces.valid.count} validation faces (${faces.identities.valid} identities) held out`,
);
