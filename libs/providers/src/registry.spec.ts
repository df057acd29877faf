import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CatalogProviderInput, PROVIDER_KINDS } from '@turnpike/contracts';
import { adapterFor, PROVIDER_ADAPTERS } from './registry.js';

test('the registry implements exactly the provider kinds the catalog accepts', () => {
  assert.deepEqual(Object.keys(PROVIDER_ADAPTERS).sort(), [...PROVIDER_KINDS].sort());
  for (const kind of PROVIDER_KINDS) {
    const adapter = adapterFor(kind);
    assert.ok(adapter, kind);
    assert.equal(adapter.kind, kind, 'each adapter says which kind it is');
    assert.ok(CatalogProviderInput.safeParse({ id: 'p', name: 'P', kind }).success, kind);
  }
});

test('unknown kinds have no adapter and are refused by the catalog', () => {
  for (const kind of ['bogus', '', 'OpenAI', 'toString', '__proto__', 'constructor']) {
    assert.equal(adapterFor(kind), undefined, kind);
    assert.equal(CatalogProviderInput.safeParse({ id: 'p', name: 'P', kind }).success, false, kind);
  }
});
