#!/usr/bin/env node
/**
 * `npm run catalog:import [-- --out <file>]`: builds the catalog from the pinned datasets and
 * writes it (default `services/router/catalog/imported.catalog.json`), then prints what it did.
 * The router applies the file when its content changes; operator overrides survive it.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCatalog } from './build.js';
import { loadPinnedDatasets } from './dataset.js';
import { renderCatalog } from './render.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const IMPORTED_CATALOG = join(ROOT, 'services/router/catalog/imported.catalog.json');

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = values.out ? resolve(values.out) : IMPORTED_CATALOG;
const { datasets, sources } = await loadPinnedDatasets();
const { catalog, report } = buildCatalog(datasets, sources);
writeFileSync(out, renderCatalog(catalog));
const say = (s: string) => process.stdout.write(`${s}\n`);
const total = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
say(`catalog: ${out}`);
say(`  from ${sources.modelsDev.package} ${sources.modelsDev.version} (models.dev)`);
say(
  `   and ${sources.genaiPrices.package} ${sources.genaiPrices.version} (its prices on ${sources.genaiPrices.pricesOn}) for the models models.dev lacks`,
);
say(
  `  ${report.models} models (${report.modelsFrom['models.dev']} from models.dev, ${report.modelsFrom['genai-prices']} from genai-prices), ` +
    `${total(report.endpoints)} endpoints, ${catalog.providers.length} providers`,
);
for (const [p, n] of Object.entries(report.endpoints).sort((a, b) => b[1] - a[1]))
  say(`    ${p.padEnd(26)} ${n}`);
say(`  tiered prices (their base tier listed): ${report.tieredEndpoints} endpoints`);
for (const [dataset, reasons] of Object.entries(report.skipped)) {
  say(`  left out of ${dataset} (${total(reasons)} entries):`);
  for (const [why, n] of Object.entries(reasons).sort((a, b) => b[1] - a[1]))
    say(`    ${why}: ${n}`);
}
if (report.duplicates.length > 0)
  say(`  aliases of one model at one provider (the first id kept): ${report.duplicates.length}`);
if (report.unmappedProviders.length > 0) {
  say(`  dataset providers not in the mapping table: ${report.unmappedProviders.join(', ')}`);
  process.exitCode = 1;
}
