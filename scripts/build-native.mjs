// Builds the native engine's addon (binding.gyp, native/*.cc) with node-gyp
// when oneDNN's headers are installed. Without them it says what to install
// and exits 0, so `npm install` never fails: the tfjs engine takes over.
// FACEPOINTS_SKIP_NATIVE=1 skips the build; FACEPOINTS_REQUIRE_NATIVE=1 turns
// a missing library or a failed build into an error (for CI).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

if (!existsSync('binding.gyp')) process.exit(0);
const required = process.env.FACEPOINTS_REQUIRE_NATIVE === '1';

function giveUp(message) {
  console.warn(`facepoints: native engine not built: ${message}`);
  console.warn('facepoints: the tfjs engine will be used instead (slower training).');
  process.exit(required ? 1 : 0);
}

if (process.env.FACEPOINTS_SKIP_NATIVE === '1') giveUp('FACEPOINTS_SKIP_NATIVE=1');

const headerDirs = [
  '/usr/include',
  '/usr/local/include',
  ...(process.env.CPATH ?? '').split(':').filter(Boolean),
];
if (!headerDirs.some((dir) => existsSync(path.join(dir, 'oneapi', 'dnnl', 'dnnl.hpp')))) {
  giveUp(
    'oneDNN headers (oneapi/dnnl/dnnl.hpp) not found. Install the system package libdnnl-dev ' +
      '(Debian/Ubuntu: sudo apt-get install libdnnl-dev), then run `npm run build:native`.',
  );
}

// Our dev dependency when present, else the copy npm itself ships (npm sets npm_config_node_gyp).
let nodeGyp = process.env.npm_config_node_gyp;
try {
  nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  if (!nodeGyp) giveUp('node-gyp not found: run `npm install` first.');
}

// Use the headers that ship with this Node when present, so no download is needed.
const nodeDir = path.resolve(path.dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild'];
if (existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (result.status !== 0) {
  giveUp(`node-gyp failed (exit ${result.status}). Check that g++, make and libdnnl-dev are installed.`);
}
console.log('facepoints: native engine built (build/Release/facepoints_native.node).');
