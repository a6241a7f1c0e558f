// scripts/setup.sh, the README's and CI's set-up: apt-get update, then the
// system packages, through sudo only when not root. Checked with --dry-run
// (it prints the commands), as root and as a user (a stub `id` says uid 1000).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const SCRIPT = resolve(import.meta.dirname, '..', '..', 'scripts', 'setup.sh');
const stubs = await mkdtemp(join(tmpdir(), 'facepoints-setup-'));
after(() => rm(stubs, { recursive: true, force: true }));

async function stub(dir: string, name: string, body: string): Promise<void> {
  await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
  await chmod(join(dir, name), 0o755);
}

/** Runs the script with --dry-run on a PATH of stubs only (no real sudo, apt-get or id): `id` says `uid`. */
async function dryRun(uid: number, withSudo: boolean) {
  const dir = join(stubs, `${uid}-${withSudo}`);
  await mkdir(dir);
  await stub(dir, 'id', `echo ${uid}`);
  await stub(dir, 'apt-get', 'exit 0');
  await symlink(process.execPath, join(dir, 'node'));
  if (withSudo) await stub(dir, 'sudo', 'exec "$@"');
  return spawnSync('/bin/bash', [SCRIPT, '--dry-run'], { encoding: 'utf8', env: { PATH: dir } });
}

const INSTALL =
  /apt-get install -y -qq --no-install-recommends libdnnl-dev g\+\+ make python3 fonts-dejavu-core/;

test('as root: apt-get update, then the packages, without sudo', async () => {
  const result = await dryRun(0, false);
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines[0], 'env DEBIAN_FRONTEND=noninteractive apt-get update -qq');
  assert.match(lines[1], /^env DEBIAN_FRONTEND=noninteractive /);
  assert.match(lines[1], INSTALL);
  assert.doesNotMatch(result.stdout, /sudo/);
});

test('as a user: the same commands through sudo; without sudo it says what is needed', async () => {
  const result = await dryRun(1000, true);
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines[0], 'sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq');
  assert.match(lines[1], /^sudo env /);
  assert.match(lines[1], INSTALL);
  const noSudo = await dryRun(1000, false);
  assert.equal(noSudo.status, 1);
  assert.match(noSudo.stderr, /needs root; run this as root or install sudo/);
});
