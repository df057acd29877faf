import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENDPOINT_FIELDS, mergeImport, overridesAfterWrite } from './overrides.js';

const FIELDS = ['price', 'completion', 'disabled'];

test("an operator's write overrides the fields it changes from the imported values", () => {
  const imported = { price: 1, completion: 2, disabled: false };
  assert.deepEqual(
    overridesAfterWrite(FIELDS, [], FIELDS, { price: 5, completion: 2, disabled: false }, imported),
    ['price'],
  );
  // Disabling one endpoint overrides `disabled`; enabling it again clears that override.
  assert.deepEqual(
    overridesAfterWrite(FIELDS, ['price'], ['disabled'], { disabled: true }, imported),
    ['price', 'disabled'],
  );
  assert.deepEqual(
    overridesAfterWrite(FIELDS, ['price', 'disabled'], ['disabled'], { disabled: false }, imported),
    ['price'],
  );
  // Writing the imported value back clears the override.
  assert.deepEqual(overridesAfterWrite(FIELDS, ['price'], FIELDS, { ...imported }, imported), []);
  // A row nobody imported is the operator's, every field of it.
  assert.deepEqual(
    overridesAfterWrite(FIELDS, [], FIELDS, { price: 1, completion: 2, disabled: false }, null),
    FIELDS,
  );
});

test('an import refreshes what is not overridden and keeps what is', () => {
  const current = { price: 5, completion: 2, disabled: true };
  const r = mergeImport(FIELDS, current, ['price', 'disabled'], {
    price: 1.5,
    completion: 3,
    disabled: false,
  });
  assert.deepEqual(r.values, { price: 5, completion: 3, disabled: true });
  assert.deepEqual(r.changed, ['completion']);
  assert.deepEqual(r.kept, ['price', 'disabled']);
});

test('an import of an unchanged row changes nothing; a new row takes every value', () => {
  const row = { price: 1, completion: 2, disabled: false };
  assert.deepEqual(mergeImport(FIELDS, row, [], row).changed, []);
  const fresh = mergeImport(FIELDS, null, [], row);
  assert.deepEqual(fresh.values, row);
  assert.deepEqual(fresh.changed, FIELDS);
});

test('endpoint overrides are tracked per price, not per pricing object', () => {
  assert.ok(ENDPOINT_FIELDS.includes('pricing.prompt'));
  assert.ok(ENDPOINT_FIELDS.includes('pricing.completion'));
  assert.ok(!(ENDPOINT_FIELDS as readonly string[]).includes('pricing'));
});
