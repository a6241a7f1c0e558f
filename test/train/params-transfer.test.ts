import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NeuralNet } from '../../src/train/neural-net.js';
import { ENGINES, dataOf, engineFor, tinySpec } from './fixtures.js';

for (const { name: engine, skip } of ENGINES) {
  test(
    `${engine}: loadParamsFrom copies the layers whose shapes match, by name then position, and reports the rest`,
    { skip },
    async (t) => {
      const compiled = await engineFor(engine);
      const general = new NeuralNet({ layers: tinySpec(6), engine: compiled, seed: 1 });
      const specialist = new NeuralNet({ layers: tinySpec(4), engine: compiled, seed: 2 });
      const before = dataOf(await specialist.getWeights());
      const source = dataOf(await general.getWeights());

      assert.deepEqual(await specialist.loadParamsFrom(general), ['conv1', 'hidden4']);
      const after = dataOf(await specialist.getWeights());
      for (const name of ['conv1.W', 'conv1.b', 'hidden4.W', 'hidden4.b'])
        assert.deepEqual(after[name], source[name]);
      assert.deepEqual(after['output.W'], before['output.W']);
      assert.equal(specialist.lastParamsReport!.skipped[0].layer, 'output');
      assert.match(
        specialist.lastParamsReport!.skipped[0].reason,
        /shapes differ: W 16x4, b 4 here, W 16x6, b 6/,
      );

      // From a file, and by position when names differ.
      const dir = await mkdtemp(join(tmpdir(), 'facepoints-params-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      await general.save(join(dir, 'general.fpm'));
      const renamed = tinySpec(6);
      renamed.layers[1] = { ...renamed.layers[1], name: 'c1' } as (typeof renamed.layers)[1];
      const other = new NeuralNet({ layers: renamed, engine: compiled, seed: 3 });
      assert.deepEqual(await other.loadParamsFrom(join(dir, 'general.fpm')), ['c1', 'hidden4', 'output']);
      assert.deepEqual(dataOf(await other.getWeights())['c1.W'], source['conv1.W']);
    },
  );
}
