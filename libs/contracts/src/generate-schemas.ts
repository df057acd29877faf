/**
 * Writes the JSON Schema of every topic to `libs/contracts/schemas/<topic>.schema.json`.
 * Run: node libs/contracts/dist/generate-schemas.js
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topicJsonSchemas } from './schemas.js';

export const schemasDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

export function renderSchema(schema: object): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(schemasDir, { recursive: true });
  for (const [topic, schema] of Object.entries(topicJsonSchemas())) {
    writeFileSync(join(schemasDir, `${topic}.schema.json`), renderSchema(schema));
    console.log(`wrote ${topic}.schema.json`);
  }
}
