import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const moduleUrl = (path: string) => pathToFileURL(resolve(repoRoot, path)).href;

/** Runs a fit in a child process that sends itself `signals` real SIGINTs during epoch 2. */
function fitWithSignals(signals: number): { status: number | null; stdout: string; stderr: string } {
  const code = `
    import { NeuralNet } from '${moduleUrl('src/train/neural-net.ts')}';
    import { createTfjsEngine } from '${moduleUrl('src/engine/tfjs/tfjs-engine.ts')}';
    let sent = false;
    const net = new NeuralNet({
      layers: [{ kind: 'input', shape: [4] }, { kind: 'dense', units: 3 }, { kind: 'dense', units: 2, activation: 'linear' }],
      engine: await createTfjsEngine(),
      maxEpochs: 1000,
      trainSplit: null,
      onBatchFinished: (n) => {
        if (n.epoch === 1 && !sent) {
          sent = true;
          for (let i = 0; i < ${signals}; i++) process.kill(process.pid, 'SIGINT');
        }
      },
    });
    const X = Float32Array.from({ length: 400 }, (_, i) => (i % 7) / 7);
    const y = Float32Array.from({ length: 200 }, (_, i) => (i % 5) / 5);
    await net.fit(X, y);
    console.log(JSON.stringify({ epochs: net.trainHistory.length, reason: net.stopReason, listeners: process.listenerCount('SIGINT') }));
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('one Ctrl-C stops fit after the current batch; the handler is gone afterwards', () => {
  const { status, stdout, stderr } = fitWithSignals(1);
  assert.equal(status, 0, stderr);
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop()!), {
    epochs: 1,
    reason: 'interrupted',
    listeners: 0,
  });
  assert.match(stdout, /Stopping after the current batch/, "on the net's output, process.stdout by default");
});

test('a second Ctrl-C exits at once', () => {
  const { status, stdout } = fitWithSignals(2);
  assert.equal(status, 130);
  // Only the first press's notice: fit never finished, so no result line.
  assert.equal(stdout.trim(), 'Stopping after the current batch (Ctrl-C again to quit at once)...');
});
