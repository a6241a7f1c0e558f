import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { test } from 'node:test';

import { bundleForBrowser } from '../../scripts/build-browser.mjs';

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

test('facepoints/browser bundles for the browser platform with no Node built-in and one copy of tfjs', async () => {
  const result = await bundleForBrowser('src/browser/index.ts', { minify: false });
  assert.deepEqual(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  // Every import of every module in the graph, resolved or not: none may be a Node built-in.
  const imported = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
  const builtins = imported.filter((path) => NODE_BUILTINS.has(path));
  assert.deepEqual(builtins, [], `Node built-ins in the browser graph: ${builtins.join(', ')}`);
  // tfjs' own package.json maps fs, path, crypto... to empty modules for browsers, and ours maps sharp
  // (which decodeImage loads only in Node): those stand in the graph as '(disabled):...', empty.
  const bundled = inputs.filter((path) => !path.startsWith('(disabled):'));
  assert.ok(!bundled.some((path) => NODE_BUILTINS.has(path)), 'a Node built-in is bundled');
  assert.ok(!bundled.some((path) => path.includes('node_modules/sharp/')), 'sharp is in the browser graph');
  assert.ok(
    inputs.some((path) => path.startsWith('(disabled):node_modules/sharp/')),
    'sharp is not disabled',
  );
  // The bundle needs nothing at run time but its .wasm files: no import is left external.
  const output = Object.values(result.metafile.outputs)[0];
  assert.deepEqual(output.imports, []);
  // The engine, the model parser and the crop are the project's own sources.
  for (const source of ['src/engine/tfjs/tfjs-network.ts', 'src/train/model-file.ts', 'src/data/crop.ts']) {
    assert.ok(inputs.includes(source), `${source} is not in the bundle`);
  }
  const copies = new Set(
    inputs.map((path) => /(.*node_modules\/@tensorflow\/tfjs-core)\//.exec(path)?.[1]).filter(Boolean),
  );
  assert.equal(copies.size, 1, `tfjs-core copies: ${[...copies].join(', ')}`);
});

test('the same check fails for an entry that imports a Node module', async () => {
  // src/io/atomic-write.ts imports node:fs; bundling it for the browser must not succeed.
  await assert.rejects(bundleForBrowser('src/io/atomic-write.ts', { minify: false }), /node:fs|fs/);
});
