#!/usr/bin/env node
/** `npm run docs:providers`: writes docs/providers.md from the adapters. */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVIDER_ADAPTERS } from '../registry.js';
import { renderProvidersDoc } from './providers-doc.js';

const file = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../..'),
  'docs/providers.md',
);
writeFileSync(file, renderProvidersDoc(PROVIDER_ADAPTERS));
process.stdout.write(`${file}: ${Object.keys(PROVIDER_ADAPTERS).length} provider kinds\n`);
