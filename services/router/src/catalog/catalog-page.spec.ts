import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ADMIN_MODELS_PAGE_BYTES,
  ListModelsParams,
  type CatalogModelView,
} from '@turnpike/contracts';
import { modelPage } from './catalog-page.js';

/** A model view of about `kb` kilobytes (its description pads it). */
const view = (id: string, kb = 1): CatalogModelView => ({
  id,
  name: id,
  description: 'x'.repeat(kb * 1024),
  created: 0,
  context_length: 8192,
  input_modalities: ['text'],
  output_modalities: ['text'],
  overrides: [],
  endpoints: [],
});

const ids = Array.from({ length: 250 }, (_, i) => `a/m-${String(i).padStart(3, '0')}`);
const views = (kb: number) => (id: string) => view(id, kb);

test('pages of `limit` models (100 by default), next_offset to the next, null on the last', () => {
  const first = modelPage(ids, views(1), ListModelsParams.parse({}), ADMIN_MODELS_PAGE_BYTES);
  assert.equal(first.data.length, 100);
  assert.deepEqual(
    [first.data[0]!.id, first.total_count, first.next_offset],
    ['a/m-000', 250, 100],
  );
  const last = modelPage(
    ids,
    views(1),
    ListModelsParams.parse({ offset: 200, limit: 100 }),
    ADMIN_MODELS_PAGE_BYTES,
  );
  assert.deepEqual([last.data.length, last.data[0]!.id, last.next_offset], [50, 'a/m-200', null]);
  const past = modelPage(ids, views(1), { offset: 900, limit: 10 }, ADMIN_MODELS_PAGE_BYTES);
  assert.deepEqual([past.data, past.next_offset], [[], null]);
});

test('a page never exceeds the byte budget, whatever the limit; paging still visits every model', () => {
  // 500 views of ~3 KiB would be 1.5 MiB: more than an RPC reply may carry.
  const seen: string[] = [];
  let offset: number | null = 0;
  let pages = 0;
  while (offset !== null) {
    const page = modelPage(
      ids,
      views(3),
      ListModelsParams.parse({ offset, limit: 500 }),
      ADMIN_MODELS_PAGE_BYTES,
    );
    assert.ok(Buffer.byteLength(JSON.stringify(page)) < ADMIN_MODELS_PAGE_BYTES + 4096);
    seen.push(...page.data.map((m) => m.id));
    offset = page.next_offset;
    pages++;
  }
  assert.deepEqual(seen, ids);
  assert.ok(pages >= 2, `${pages} pages`);
});

test('a model larger than the budget still makes a page of its own (paging advances)', () => {
  const page = modelPage(ids, views(8), { offset: 3, limit: 10 }, 4 * 1024);
  assert.deepEqual([page.data.map((m) => m.id), page.next_offset], [['a/m-003'], 4]);
});

test('the limit is bounded', () => {
  assert.equal(ListModelsParams.safeParse({ limit: 501 }).success, false);
  assert.equal(ListModelsParams.safeParse({ limit: 0 }).success, false);
  assert.equal(ListModelsParams.safeParse({ offset: -1 }).success, false);
});
