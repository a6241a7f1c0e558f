import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';

import { reportError } from '../../src/cli/report-error.js';
import { DataFormatError } from '../../src/errors.js';
import { runCli, tempDir } from './helpers.js';

const repo = resolve(import.meta.dirname, '..', '..');
let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir('errors')));
after(() => cleanup());

test('every command has --help with an example, exit code 0', async () => {
  for (const command of ['demo', 'train', 'evaluate', 'predict', 'import', 'submit', 'plot', 'specialists']) {
    const result = await runCli(command, '--help');
    assert.equal(result.code, 0, command);
    assert.match(result.stdout, new RegExp(`^Usage: facepoints ${command}`), command);
    assert.match(result.stdout, /Examples?:\n\s+(npx )?facepoints /, command);
  }
});

test('usage errors exit 1 with commander message on stderr', async () => {
  const unknown = await runCli('fly');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^facepoints: error: unknown command 'fly'/);
  const missingArg = await runCli('evaluate', 'model.fpm');
  assert.equal(missingArg.code, 1);
  assert.match(missingArg.stderr, /missing required argument 'data'/);
  const badChoice = await runCli('train', 'net1', '--engine', 'gpu');
  assert.equal(badChoice.code, 1);
  assert.match(badChoice.stderr, /argument 'gpu' is invalid\. Allowed choices are auto, native, tfjs/);
  const badBox = await runCli('predict', 'm.fpm', 'a.png', '--box', '1,2');
  assert.equal(badBox.code, 1);
  assert.match(badBox.stderr, /expected X,Y,SIZE/);
});

test('our errors give one line and exit 1; a bug gives its stack and exit 2', () => {
  let out = '';
  const sink = { write: (t: string) => (out += t) };
  assert.equal(
    reportError(
      new DataFormatError('pixel 256 out of range', { file: 'a.csv', line: 3, column: 'Image' }),
      sink,
    ),
    1,
  );
  assert.equal(out, 'facepoints: error: a.csv, line 3, column Image: pixel 256 out of range\n');
  out = '';
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: 'x.csv' });
  assert.equal(reportError(enoent, sink), 1);
  assert.equal(out, 'facepoints: error: x.csv does not exist\n');
  out = '';
  assert.equal(reportError(new TypeError('undefined is not a function'), sink), 2);
  assert.match(out, /unexpected error .*\n.*TypeError: undefined is not a function\n\s+at /);
});

test('the real process exits 1 with the message on stderr', () => {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'train', 'net0', '--data', 'synthetic:5'],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  assert.equal(result.status, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^facepoints: error: unknown preset 'net0'/);
});

test('bin/facepoints.js says to build when dist is missing', async () => {
  await mkdir(join(root, 'bin'));
  await copyFile(join(repo, 'bin', 'facepoints.js'), join(root, 'bin', 'facepoints.js'));
  const result = spawnSync(process.execPath, [join(root, 'bin', 'facepoints.js'), '--help'], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /dist\/cli\/main\.js\) is missing: run `npm run build`/);
});
