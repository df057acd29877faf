/**
 * The committed OpenAI reference schemas (`libs/openai-api/schemas/openai-schemas.json`) and the
 * script that derives them from OpenAI's OpenAPI document. Test support: not exported from the
 * package index.
 *
 * The conformance tests validate what we serve against OpenAI's published component schemas, but
 * they must run on a clone that has nothing beside it, so they load this fixture only. It keeps
 * the STRUCTURE of the schemas the tests need (and everything they reference): types,
 * properties, required, enums, items, anyOf/oneOf/allOf, additionalProperties, bounds, formats;
 * no descriptions, titles, examples or defaults. It is JSON Schema 2020-12: component `$ref`s
 * point into `$defs`, and OpenAPI 3.0's `nullable: true` (which the document still uses though it
 * declares 3.1) becomes a type union (`type: [T, 'null']`, or `anyOf: [..., {type: 'null'}]`
 * around a schema without a type), so a strict validator accepts `null` where OpenAI sends it.
 *
 *   node libs/openai-api/dist/reference-schemas.js            # regenerate from ../shared/specs
 *   node libs/openai-api/dist/reference-schemas.js --check    # exit 1 when the fixture drifted
 *   ... --spec <path/to/openai-openapi.yaml>                  # another copy of the document
 *
 * The drift check also runs in `npm test` (reference-schemas.spec.ts) whenever
 * `../shared/specs/openai-openapi.yaml` exists beside the repository, and is skipped otherwise.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The component schemas the tests validate against; their references come along. */
export const REFERENCE_ROOTS: readonly string[] = [
  'CreateChatCompletionRequest',
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CompletionUsage',
  'ErrorResponse',
  'Error',
  'Model',
  'ListModelsResponse',
];

const here = dirname(fileURLToPath(import.meta.url));
/** `libs/openai-api/schemas/openai-schemas.json` (from `src/` or `dist/`). */
export const REFERENCE_SCHEMAS_FILE = resolve(here, '..', 'schemas', 'openai-schemas.json');
/** Where the source document lives when the reference specs sit beside the repository. */
export const SHARED_OPENAI_SPEC = resolve(
  here,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'specs',
  'openai-openapi.yaml',
);

const COMPONENT_REF = '#/components/schemas/';

/** Keywords whose value is a schema. */
const SCHEMA_KEYWORDS = new Set([
  'items',
  'additionalProperties',
  'not',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
]);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
/** Keywords whose value is a map of name → schema (the names are data, not keywords). */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties']);
/** Keywords whose value is data, copied as is. */
const DATA_KEYWORDS = new Set([
  'type',
  'required',
  'enum',
  'const',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
]);
// Everything else is dropped: description, title, default, example(s), deprecated,
// discriminator (an annotation in 2020-12), readOnly/writeOnly, x-* extensions, and so on.

/**
 * One component schema (recursively) in JSON Schema 2020-12, structure only. Handles the
 * OpenAPI-isms: `nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`,
 * `$recursiveRef`/`$recursiveAnchor` (resolved to the enclosing component), duplicate `required`
 * entries, and component refs (→ `#/$defs/<name>`).
 */
export function structuralSchema(node: unknown, component: string): unknown {
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      if (!v.startsWith(COMPONENT_REF)) throw new Error(`${component}: unsupported $ref ${v}`);
      out['$ref'] = `#/$defs/${v.slice(COMPONENT_REF.length)}`;
    } else if (k === '$recursiveRef') {
      out['$ref'] = `#/$defs/${component}`;
    } else if (SCHEMA_KEYWORDS.has(k)) {
      out[k] = typeof v === 'boolean' ? v : structuralSchema(v, component);
    } else if (SCHEMA_LIST_KEYWORDS.has(k) && Array.isArray(v)) {
      out[k] = v.map((s) => structuralSchema(s, component));
    } else if (SCHEMA_MAP_KEYWORDS.has(k) && isObject(v)) {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([p, s]) => [p, structuralSchema(s, component)]),
      );
    } else if (k === 'required' && Array.isArray(v)) {
      out[k] = [...new Set(v)];
    } else if (k === 'exclusiveMinimum' || k === 'exclusiveMaximum') {
      const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (typeof v === 'number') out[k] = v;
      else if (v === true && typeof node[bound] === 'number') out[k] = node[bound];
    } else if (DATA_KEYWORDS.has(k)) {
      out[k] = v;
    }
  }
  for (const k of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
    if (node[k] === true && typeof node[bound] === 'number') delete out[bound];
  }
  return node['nullable'] === true ? nullable(out) : out;
}

function nullable(schema: Json): Json {
  const type = schema['type'];
  if (typeof type === 'string' || Array.isArray(type)) {
    const types = Array.isArray(type) ? type : [type];
    const out: Json = { ...schema, type: types.includes('null') ? types : [...types, 'null'] };
    if (Array.isArray(schema['enum']) && !schema['enum'].includes(null))
      out['enum'] = [...schema['enum'], null];
    return out;
  }
  return { anyOf: [schema, { type: 'null' }] };
}

function componentRefs(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => componentRefs(n, into));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/'))
        into.add(v.slice('#/$defs/'.length));
      else componentRefs(v, into);
    }
  }
  return into;
}

export interface ReferenceSchemas {
  $schema: string;
  $comment: string;
  $defs: Record<string, unknown>;
}

/** The fixture for `roots` (and every component they reference) of a parsed OpenAPI document. */
export function deriveReferenceSchemas(
  doc: unknown,
  roots: readonly string[] = REFERENCE_ROOTS,
): ReferenceSchemas {
  const components = isObject(doc) && isObject(doc['components']) ? doc['components'] : {};
  const schemas = isObject(components['schemas']) ? components['schemas'] : {};
  const info = isObject(doc) && isObject(doc['info']) ? doc['info'] : {};
  const defs = new Map<string, unknown>();
  const queue = [...roots];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (defs.has(name)) continue;
    if (!(name in schemas)) throw new Error(`the OpenAPI document has no component '${name}'`);
    const schema = structuralSchema(schemas[name], name);
    defs.set(name, schema);
    for (const ref of componentRefs(schema, new Set())) if (!defs.has(ref)) queue.push(ref);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $comment:
      `Generated by libs/openai-api/src/reference-schemas.ts from OpenAI's openai-openapi.yaml ` +
      `(info.version ${String(info['version'] ?? '?')}): structure only. Do not edit; regenerate.`,
    // Sorted, so the file does not churn when the document reorders its components.
    $defs: Object.fromEntries([...defs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

export function renderReferenceSchemas(schemas: ReferenceSchemas): string {
  return `${JSON.stringify(schemas, null, 2)}\n`;
}

/** Derives the fixture text from the YAML document at `specPath`. */
export function generateReferenceSchemas(specPath: string = SHARED_OPENAI_SPEC): string {
  const doc: unknown = parseYaml(readFileSync(specPath, 'utf8'), { maxAliasCount: -1 });
  return renderReferenceSchemas(deriveReferenceSchemas(doc));
}

/** The committed fixture (what the tests load). */
export function loadReferenceSchemas(file: string = REFERENCE_SCHEMAS_FILE): ReferenceSchemas {
  return JSON.parse(readFileSync(file, 'utf8')) as ReferenceSchemas;
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { check: { type: 'boolean' }, spec: { type: 'string' } },
  });
  const specPath = resolve(values.spec ?? SHARED_OPENAI_SPEC);
  if (!existsSync(specPath)) {
    console.error(`reference-schemas: ${specPath} not found (pass --spec <openai-openapi.yaml>)`);
    return 2;
  }
  const text = generateReferenceSchemas(specPath);
  if (values.check) {
    const current = existsSync(REFERENCE_SCHEMAS_FILE)
      ? readFileSync(REFERENCE_SCHEMAS_FILE, 'utf8')
      : '';
    if (current === text) {
      console.log(`${REFERENCE_SCHEMAS_FILE} is up to date with ${specPath}`);
      return 0;
    }
    console.error(
      `${REFERENCE_SCHEMAS_FILE} has drifted from ${specPath}: ` +
        'run node libs/openai-api/dist/reference-schemas.js and commit the result',
    );
    return 1;
  }
  writeFileSync(REFERENCE_SCHEMAS_FILE, text);
  const count = Object.keys((JSON.parse(text) as ReferenceSchemas).$defs).length;
  console.log(`wrote ${join('libs/openai-api/schemas', 'openai-schemas.json')} (${count} schemas)`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));
