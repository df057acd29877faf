/** The `--models` option of the CLI. */
import { KnobError } from './knobs.js';
import type { SimModel } from './types.js';

/**
 * `id[:contextLength],...`, or `id=contextLength` for ids that hold a colon themselves (Bedrock's
 * `anthropic.claude-3-7-sonnet-20250219-v1:0=200000`); an id with several colons and no `=` has
 * no context length.
 */
export function parseModels(spec: string): SimModel[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.lastIndexOf('=');
      const colons = entry.split(':').length - 1;
      const cut = eq >= 0 ? eq : colons === 1 ? entry.indexOf(':') : -1;
      if (cut < 0) return { id: entry };
      const id = entry.slice(0, cut);
      const contextLength = Number(entry.slice(cut + 1));
      if (id === '' || !Number.isInteger(contextLength) || contextLength <= 0)
        throw new KnobError(`invalid context length in '${entry}'`);
      return { id, contextLength };
    });
}
