import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CatalogFile } from '@turnpike/contracts';

export { CatalogFile };

/** Reads and validates a versioned catalog file (`CatalogFile` of `@turnpike/contracts`). */
export function readCatalogFile(path: string): { file: CatalogFile; text: string } {
  const text = readFileSync(path, 'utf8');
  const parsed = CatalogFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`invalid catalog ${path}: ${z.prettifyError(parsed.error)}`);
  return { file: parsed.data, text };
}
