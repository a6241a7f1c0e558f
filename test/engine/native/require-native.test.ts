// A native engine that does not load must fail CI's tests, not skip them:
// skipNative throws under FACEPOINTS_REQUIRE_NATIVE=1 and skips otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const ENGINES_MODULE = resolve(import.meta.dirname, '..', '..', 'engines.ts');

function importEngines(require: boolean) {
  const script = `const m = await import(${JSON.stringify(ENGINES_MODULE)}); console.log('skip:', m.skipNative);`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {
      ...process.env,
      // An addon path that does not exist: the engine is "not built".
      FACEPOINTS_NATIVE_ADDON: resolve(import.meta.dirname, 'no-such-addon.node'),
      FACEPOINTS_REQUIRE_NATIVE: require ? '1' : '0',
    },
  });
}

test('without the addon, native tests skip with a message', () => {
  const result = importEngines(false);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /skip: native addon not built \(install libdnnl-dev/);
});

test('without the addon and FACEPOINTS_REQUIRE_NATIVE=1, loading the test engines fails', () => {
  const result = importEngines(true);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /FACEPOINTS_REQUIRE_NATIVE=1, but the native addon not built/);
});
