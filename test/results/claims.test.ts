import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  bestValid,
  changeClaim,
  compareWords,
  firstEpochReaching,
  scheduleClaim,
} from '../../src/results/claims.js';
import { checkBudget, netEpochs, reportEpochs, scaledEpochs } from '../../src/results/plan.js';

const history = (valid: number[]) =>
  valid.map((v, i) => ({ epoch: i + 1, validLoss: v, trainLoss: v * 0.9 }));

test('budget scales the tutorial epochs and its reporting epochs', () => {
  assert.equal(scaledEpochs(1000, 0.05), 50);
  assert.equal(scaledEpochs(400, 0.001), 1);
  assert.equal(netEpochs('net3', 0.3), 900);
  assert.deepEqual(reportEpochs(1000, 0.1, 100), [5, 10, 25, 50, 75, 100]);
  // net1's 400 epochs: the tutorial's rows up to 400, then its last epoch.
  assert.deepEqual(reportEpochs(400, 1, 400), [50, 100, 250, 400]);
  // a run stopped early reports only what it trained
  assert.deepEqual(reportEpochs(2000, 0.01, 7), [1, 3, 5, 7]);
  assert.throws(() => checkBudget(0), /--budget/);
  assert.throws(() => checkBudget(Number.NaN), /--budget/);
});

test('the schedule claim counts the epochs from the histories, both ways', () => {
  const slow = history([0.5, 0.4, 0.3, 0.25, 0.2]);
  const fast = history([0.4, 0.2, 0.1]);
  assert.deepEqual(bestValid(slow), { loss: 0.2, epoch: 5 });
  assert.equal(firstEpochReaching(fast, 0.2), 2);
  const yes = scheduleClaim({ name: 'net4', history: fast }, { name: 'net2', history: slow });
  assert.equal(yes.fewerEpochs, 3);
  assert.match(yes.text, /net4 reaches it at epoch 2: 3 fewer epochs/);
  const no = scheduleClaim({ name: 'net2', history: slow }, { name: 'net4', history: fast });
  assert.equal(no.fewerEpochs, null);
  assert.match(no.text, /does not reach it in its 5 epochs/);
  assert.match(no.text, /100 % higher/);
});

test('the change claims follow the sign of the numbers', () => {
  assert.deepEqual(compareWords(0.9, 1).sign, -1);
  assert.match(compareWords(0.8, 1).words, /^20 % lower$/);
  assert.deepEqual(compareWords(1.005, 1).sign, 0);
  assert.deepEqual(compareWords(1.2, 1).sign, 1);
  const lower = changeClaim(
    'flips',
    { name: 'net3', history: history([0.5, 0.3]) },
    { name: 'net2', history: history([0.5, 0.4, 0.1]) },
  );
  assert.equal(lower.sign, -1); // compared over the 2 epochs both trained
  assert.match(lower.text, /Over the 2 epochs both trained/);
  assert.match(lower.text, /whole runs \(2 and 3 epochs\) 0\.3000 against 0\.1000: 200 % higher/);
  const higher = changeClaim(
    'dropout',
    { name: 'net6', history: history([0.5, 0.45]) },
    { name: 'net5', history: history([0.5, 0.3]) },
  );
  assert.equal(higher.sign, 1);
});
