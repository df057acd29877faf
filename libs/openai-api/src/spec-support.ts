/**
 * Test support (not exported from the package index): validates values against OpenAI's
 * published component schemas, from the committed structure-only fixture
 * `libs/openai-api/schemas/openai-schemas.json` (see reference-schemas.ts), with Ajv's JSON
 * Schema 2020-12 validator. Nothing here reads anything outside the repository.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { loadReferenceSchemas, REFERENCE_SCHEMAS_FILE } from './reference-schemas.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

const SCHEMAS_ID = 'https://turnpike.local/openai-schemas.json';

function collectFormats(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => collectFormats(n, into));
  else if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (typeof o['format'] === 'string') into.add(o['format']);
    Object.values(o).forEach((n) => collectFormats(n, into));
  }
  return into;
}

const formatError = (e: ErrorObject): string =>
  `${e.instancePath || '$'}: ${e.message ?? e.keyword}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`;

export class OpenApiDoc {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly defs: Record<string, Schema>) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    addFormats(this.ajv);
    // OpenAPI-only formats (unixtime, int64, binary, ...) are annotations here.
    for (const f of collectFormats(defs, new Set()))
      if (!this.ajv.formats[f]) this.ajv.addFormat(f, true);
    this.ajv.addSchema({ $id: SCHEMAS_ID, $defs: defs });
  }

  /** The (structure-only, 2020-12) schema of component `name`. */
  schema(name: string): Schema {
    const s = this.defs[name];
    if (s === undefined)
      throw new Error(`no schema ${name} in ${REFERENCE_SCHEMAS_FILE} (add it to REFERENCE_ROOTS)`);
    return s;
  }

  /** Errors of `value` against component `name` (empty = valid). */
  validate(name: string, value: unknown): string[] {
    let fn = this.compiled.get(name);
    if (fn === undefined) {
      this.schema(name);
      fn = this.ajv.compile({ $ref: `${SCHEMAS_ID}#/$defs/${name}` });
      this.compiled.set(name, fn);
    }
    return fn(value) ? [] : (fn.errors ?? []).map(formatError);
  }
}

let openai: OpenApiDoc | undefined;

/** OpenAI's component schemas, from the committed fixture (cached). */
export function loadSpec(_file: 'openai-openapi.yaml' = 'openai-openapi.yaml'): OpenApiDoc {
  openai ??= new OpenApiDoc(loadReferenceSchemas().$defs as Record<string, Schema>);
  return openai;
}
