import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCatalogFile } from './catalog-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

test('the bundled and test catalogs are valid', () => {
  for (const f of [
    'services/router/catalog/default.catalog.json',
    'tests/fixtures/test.catalog.json',
  ]) {
    const { file } = readCatalogFile(join(root, f));
    assert.ok(file.models.length > 0, f);
    for (const m of file.models) for (const e of m.endpoints) assert.equal(e.disabled, false);
  }
});

test('an endpoint naming an undeclared provider is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
  const path = join(dir, 'c.json');
  writeFileSync(
    path,
    JSON.stringify({
      version: 1,
      providers: [],
      models: [
        {
          id: 'a/b',
          name: 'B',
          created: 0,
          context_length: 10,
          input_modalities: ['text'],
          output_modalities: ['text'],
          endpoints: [
            {
              provider: 'x',
              upstream_model: 'u',
              pricing: { prompt: '1', completion: '1' },
              context_length: 10,
            },
          ],
        },
      ],
    }),
  );
  assert.throws(() => readCatalogFile(path), /unknown provider x/);
});

test('a model id with a routing suffix is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
  const path = join(dir, 'c.json');
  writeFileSync(
    path,
    JSON.stringify({
      version: 1,
      providers: [],
      models: [{ id: 'a/b:floor', name: 'B', created: 0, context_length: 10, endpoints: [] }],
    }),
  );
  assert.throws(() => readCatalogFile(path), /invalid catalog/);
});
