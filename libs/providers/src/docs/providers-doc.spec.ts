import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CAPABILITY_FLAGS } from '../core/capabilities.js';
import { PROVIDER_ADAPTERS } from '../registry.js';
import { renderProvidersDoc } from './providers-doc.js';

const doc = join(dirname(fileURLToPath(import.meta.url)), '../../../../docs/providers.md');

test('docs/providers.md is generated from the adapters (run `npm run docs:providers`)', () => {
  assert.ok(
    readFileSync(doc, 'utf8') === renderProvidersDoc(PROVIDER_ADAPTERS),
    'docs/providers.md drifted from the adapters: run `npm run docs:providers`',
  );
});

test('the table has a row per kind with its protocol, flags and parameters', () => {
  const text = renderProvidersDoc(PROVIDER_ADAPTERS);
  for (const [kind, a] of Object.entries(PROVIDER_ADAPTERS)) {
    assert.match(text, new RegExp(`\\| \`${kind}\` \\| \`${a.protocol}\` \\|`));
    const flags = text
      .split('\n')
      .find((l) => l.startsWith(`| \`${kind}\` |`) && (l.includes('yes') || l.includes('—')))!
      .split('|')
      .slice(2, -1)
      .map((c) => c.trim() === 'yes');
    assert.deepEqual(
      flags,
      CAPABILITY_FLAGS.map((f) => a.capabilities[f]),
    );
    for (const p of a.capabilities.parameters) assert.ok(text.includes(`\`${p}\``), p);
  }
});
