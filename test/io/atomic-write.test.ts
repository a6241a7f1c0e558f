import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeAtomically, writeFileAtomic } from '../../src/io/atomic-write.js';

test('writeFileAtomic creates missing folders and leaves no temporary file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fp-atomic-'));
  try {
    const target = join(root, 'results', 'nested', 'train.csv');
    await writeFileAtomic(target, 'a,b\n1,2\n');
    assert.equal(await readFile(target, 'utf8'), 'a,b\n1,2\n');
    assert.deepEqual(await readdir(join(root, 'results', 'nested')), ['train.csv']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a failed write keeps the old file and removes its temporary file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fp-atomic-'));
  try {
    const target = join(root, 'model.fpm');
    await writeFileAtomic(target, 'old');
    await assert.rejects(
      writeAtomically(target, async (file) => {
        await file.write('half');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.equal(await readFile(target, 'utf8'), 'old');
    assert.deepEqual(await readdir(root), ['model.fpm']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
