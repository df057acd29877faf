import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomClusterId } from './kafka.js';

test('cluster ids are 22 base64url characters and never start with "-" (read as an option)', () => {
  // With 4 000 draws, an id starting with '-' (1 in 64) would come up about 60 times.
  for (let i = 0; i < 4000; i++) {
    const id = randomClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});
