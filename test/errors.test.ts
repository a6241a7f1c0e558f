// Errors keep what caused them, and file-system errors read differently by
// what went wrong (missing, not allowed, a folder where a file was expected).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { loadDataSource } from '../src/data/data-source.js';
import {
  ConfigError,
  DataFormatError,
  FacepointsError,
  ModelFileError,
  fileError,
  fileProblem,
} from '../src/errors.js';
import { readModelFile } from '../src/train/model-file-node.js';

const root = await mkdtemp(join(tmpdir(), 'facepoints-errors-'));
after(() => rm(root, { recursive: true, force: true }));

const fsError = (code: string) => Object.assign(new Error(`${code}: something`), { code });

test('every error class takes a cause', () => {
  const cause = fsError('EACCES');
  for (const error of [
    new FacepointsError('x', { cause }),
    new ConfigError('x', { cause }),
    new DataFormatError('x', { file: 'a.csv', line: 2 }, { cause }),
    new ModelFileError('m.fpm', 'x', { cause }),
  ]) {
    assert.equal(error.cause, cause, error.name);
  }
  assert.equal(new ConfigError('x').cause, undefined);
});

test('fs errors become words that tell missing, not allowed and folder apart', () => {
  assert.equal(fileProblem(fsError('ENOENT')), 'does not exist');
  assert.equal(fileProblem(fsError('EACCES')), 'cannot be accessed: permission denied');
  assert.equal(fileProblem(fsError('EISDIR')), 'is a folder, expected a file');
  assert.match(fileProblem(fsError('EIO')), /^cannot be read \(EIO: something\)$/);
  const error = fileError('data.csv', fsError('EACCES'), 'data source');
  assert.ok(error instanceof ConfigError);
  assert.equal(error.message, 'data source data.csv cannot be accessed: permission denied');
  assert.equal((error.cause as { code: string }).code, 'EACCES');
});

test('a missing data file and a folder given as data fail differently, the fs error kept', async () => {
  await assert.rejects(loadDataSource(join(root, 'nope.csv')), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /nope\.csv does not exist \(expected a Kaggle-format CSV/);
    assert.equal((e.cause as { code: string }).code, 'ENOENT');
    return true;
  });
  await assert.rejects(loadDataSource(root), /is a folder, expected a Kaggle-format CSV file/);
  await assert.rejects(readModelFile(root), (e: unknown) => {
    assert.ok(e instanceof ModelFileError);
    assert.match(e.message, /is a folder, expected a file$/);
    assert.equal((e.cause as { code: string }).code, 'EISDIR');
    return true;
  });
});
