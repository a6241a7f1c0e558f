import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { kaggle15 } from '../../src/data/schemas.js';
import { ConfigError, ModelFileError } from '../../src/errors.js';
import { startServer } from '../../src/serve/server.js';
import { writeModelFile } from '../../src/train/model-file-node.js';
import { runCli, tempDir } from '../cli/helpers.js';
import { randomModel } from '../export/fixtures.js';

const WEB_FILES = [
  'index.html',
  'page.js',
  'facepoints-browser.js',
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

async function fixture(dir: string): Promise<{ web: string; model: string }> {
  const web = join(dir, 'web');
  await mkdir(web);
  for (const name of WEB_FILES) await writeFile(join(web, name), `content of ${name}`);
  const spec = {
    layers: [
      { kind: 'input' as const, shape: [9216] },
      { kind: 'dense' as const, units: 30 },
    ],
  };
  const model = join(dir, 'net.fpm');
  await writeModelFile(model, randomModel(spec, 1, { schema: 'kaggle15', columns: kaggle15.columns }));
  return { web, model };
}

test('serve gives the page, its scripts, wasm files and the model on loopback, and nothing else', async () => {
  const { dir, cleanup } = await tempDir('serve');
  const { web, model } = await fixture(dir);
  const running = await startServer({ model, port: 0, webDir: web });
  try {
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const get = (path: string, init?: RequestInit) => fetch(new URL(path, running.url), init);
    const page = await get('/');
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await page.text(), 'content of index.html');
    const wasm = await get('/tfjs-backend-wasm-simd.wasm');
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(await wasm.text(), 'content of tfjs-backend-wasm-simd.wasm');
    assert.equal((await get('/page.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
    const served = new Uint8Array(await (await get('/model.fpm')).arrayBuffer());
    assert.deepEqual(served, new Uint8Array(await (await import('node:fs/promises')).readFile(model)));
    for (const path of ['/../net.fpm', '/%2e%2e/net.fpm', '/web/index.html', '/favicon.ico']) {
      assert.equal((await get(path)).status, 404, path);
    }
    assert.equal((await get('/', { method: 'POST' })).status, 405);
  } finally {
    await running.close();
    await cleanup();
  }
});

test('serve refuses a model without a keypoint schema, a missing model and an unbuilt page', async () => {
  const { dir, cleanup } = await tempDir('serve-bad');
  try {
    const { web, model } = await fixture(dir);
    const bare = join(dir, 'bare.fpm');
    await writeModelFile(
      bare,
      randomModel(
        {
          layers: [
            { kind: 'input', shape: [4] },
            { kind: 'dense', units: 2 },
          ],
        },
        1,
      ),
    );
    await assert.rejects(
      startServer({ model: bare, port: 0, webDir: web }),
      (e: Error) => e instanceof ModelFileError && /no schema/.test(e.message),
    );
    await assert.rejects(startServer({ model: join(dir, 'none.fpm'), port: 0, webDir: web }), /no such file/);
    await assert.rejects(
      startServer({ model, port: 0, webDir: join(dir, 'nowhere') }),
      (e: Error) =>
        e instanceof ConfigError && /page\.js|index\.html/.test(e.message) && /npm run build/.test(e.message),
    );
    const cli = await runCli('serve', join(dir, 'none.fpm'), '--port', '0');
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /none\.fpm/);
    const port = await runCli('serve', bare, '--port', '70000');
    assert.equal(port.code, 1);
    assert.match(port.stderr, /port from 0 to 65535/);
  } finally {
    await cleanup();
  }
});

test('serve and export have --help with an example', async () => {
  for (const command of ['serve', 'export']) {
    const result = await runCli(command, '--help');
    assert.equal(result.code, 0, command);
    assert.match(result.stdout, new RegExp(`^Usage: facepoints ${command}`), command);
    assert.match(result.stdout, /Examples?:\n\s+facepoints /, command);
  }
});
