import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';

import { runCli, tempDir } from './helpers.js';

const repo = resolve(import.meta.dirname, '..', '..');
let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir('interrupt')));
after(() => cleanup());

/** Starts a long training, presses Ctrl-C once the table shows epoch 2, and waits for the exit. */
function trainAndInterrupt(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'train',
    'net1',
    '--data',
    'synthetic:200',
    '--engine',
    'tfjs',
  ];
  const child = spawn(process.execPath, [...args, '--batch-size', '32', '--epochs', '500', '--out', out], {
    cwd: repo,
  });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!sent && /^\s+2 \|/m.test(stdout)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

test('Ctrl-C stops after the current batch, saves a resumable run and exits 130', async () => {
  const out = join(root, 'stopped');
  const stopped = await trainAndInterrupt(out);
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stdout, /Stopping after the current batch/);
  assert.match(stopped.stderr, /stopped at epoch \d+; go on with: facepoints train --resume /);
  const record = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
  assert.equal(record.status, 'interrupted');
  const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
  assert.ok(history.length >= 2 && history.length < 500);
  assert.equal(record.epochs, history.length);

  const resumed = await runCli('train', '--resume', out, '--epochs', String(history.length + 2));
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
  assert.deepEqual(
    after.map((r: { epoch: number }) => r.epoch),
    Array.from({ length: history.length + 2 }, (_, i) => i + 1),
  );
  assert.equal(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).status, 'finished');
});
