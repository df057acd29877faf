import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pacingProblems } from './stream-pacing.js';

/** n send times `gap` ms apart from t0. */
const paced = (n: number, gap: number, t0 = 1_000_000) =>
  Array.from({ length: n }, (_, i) => t0 + i * gap);

describe('pacingProblems: chunks spread out as sent, or clumped', () => {
  const sent = paced(12, 100);

  test('arrivals that follow the sends with a steady lag pass', () => {
    assert.deepEqual(
      pacingProblems(
        sent,
        sent.map((t) => t + 7),
      ),
      [],
    );
  });

  test('a busy machine: jittery lags, a 250 ms stall in the middle, still passes', () => {
    const jitter = [3, 40, 12, 90, 5, 250, 160, 60, 20, 35, 8, 30];
    assert.deepEqual(
      pacingProblems(
        sent,
        sent.map((t, i) => t + jitter[i]!),
      ),
      [],
    );
  });

  test('a starved upstream that sent in bunches is judged by what it really sent', () => {
    const bunched = [0, 1, 2, 300, 301, 302, 600, 601, 602, 900, 901, 902].map((t) => t + 5e5);
    assert.deepEqual(
      pacingProblems(
        bunched,
        bunched.map((t) => t + 20),
      ),
      [],
    );
  });

  test('every chunk within one 50 ms window fails', () => {
    const arrived = sent.map((_t, i) => sent.at(-1)! + 10 + (i * 50) / 11);
    const problems = pacingProblems(sent, arrived);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /arrived within 50 ms though they were sent over 1100 ms/);
    assert.match(problems[1]!, /arrived in clumps/);
  });

  test('chunks held back and released in threes fail', () => {
    const arrived = sent.map((_t, i) => sent[Math.min(11, i - (i % 3) + 2)]! + 15 + i * 0.5);
    assert.notDeepEqual(pacingProblems(sent, arrived), []);
  });

  test('the first chunk on time and the rest in a burst at the end fails', () => {
    const arrived = sent.map((t, i) => (i === 0 ? t + 5 : sent.at(-1)! + 20 + i));
    assert.notDeepEqual(pacingProblems(sent, arrived), []);
  });

  test('a missing chunk or an unpaced upstream cannot pass', () => {
    assert.match(pacingProblems(sent, sent.slice(1))[0]!, /12 chunks were sent but 11 arrived/);
    const burst = paced(12, 0);
    assert.match(pacingProblems(burst, burst).join(), /all at once/);
  });
});
