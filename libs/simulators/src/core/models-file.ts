/** The models a simulator serves, read from a file (`--models-file`). */
import { readFileSync } from 'node:fs';
import { KnobError } from './knobs.js';
import type { SimModel } from './types.js';

/** `[{"id": "...", "contextLength": 8192}, ...]`: the models a simulator serves, from a file. */
export function readModelsFile(path: string): SimModel[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new KnobError(`cannot read --models-file ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new KnobError(`--models-file ${path}: not a JSON array`);
  return parsed.map((m: unknown, i) => {
    const o = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    const id = o['id'];
    const ctx = o['contextLength'];
    if (typeof id !== 'string' || id.length === 0)
      throw new KnobError(`--models-file ${path}: entry ${i} has no id`);
    if (ctx === undefined || ctx === null) return { id };
    if (typeof ctx !== 'number' || !Number.isInteger(ctx) || ctx <= 0)
      throw new KnobError(`--models-file ${path}: entry ${i} has an invalid contextLength`);
    return { id, contextLength: ctx };
  });
}
