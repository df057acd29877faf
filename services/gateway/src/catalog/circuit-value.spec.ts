import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { circuitValue } from './routing-table.service.js';

describe('circuitValue', () => {
  test('closed 0, half-open 1, open 2', () => {
    assert.equal(circuitValue({ circuit: 'closed', circuitOpenUntil: null }, 1_000), 0);
    assert.equal(circuitValue({ circuit: 'half_open', circuitOpenUntil: 900 }, 1_000), 1);
    assert.equal(circuitValue({ circuit: 'open', circuitOpenUntil: 2_000 }, 1_000), 2);
  });

  test('an open circuit past its cool-down lets a probe through: half-open', () => {
    assert.equal(circuitValue({ circuit: 'open', circuitOpenUntil: 1_000 }, 1_000), 1);
    assert.equal(circuitValue({ circuit: 'open', circuitOpenUntil: 500 }, 1_000), 1);
  });
});
