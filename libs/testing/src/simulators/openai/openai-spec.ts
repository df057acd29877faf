/**
 * Validators for OpenAI wire objects, compiled from the OpenAPI spec in `<repo>/../shared/specs/`.
 *
 * The spec declares OpenAPI 3.1 but still uses the 3.0 keyword `nullable: true`; it is rewritten
 * into JSON Schema 2020-12 (`type: [T, 'null']`, or `anyOf: [..., {type: 'null'}]` around a
 * `$ref`/`allOf`/`oneOf`/`anyOf` without a type) before compiling with Ajv.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isRepoRoot(dir: string): boolean {
  if (existsSync(join(dir, 'nx.json'))) return true;
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'turnpike';
  } catch {
    return false;
  }
}

/** The repository root: the nearest ancestor holding `nx.json` or the `turnpike` root package.json. */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (const start of [from, process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      if (isRepoRoot(dir)) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(`turnpike repository root not found above ${from}`);
}

/** Path of a shared spec file: `<repo>/../shared/specs/<name>`. */
export function findSharedSpec(name: string, from?: string): string {
  const path = join(findRepoRoot(from), '..', 'shared', 'specs', name);
  if (!existsSync(path)) throw new Error(`shared spec not found: ${path}`);
  return path;
}

const COMPONENT_REF = '#/components/schemas/';
const SPEC_ID = 'https://turnpike.local/openai-openapi.json';

/**
 * Rewrites one component schema (recursively) from OpenAPI 3.0-isms into JSON Schema 2020-12:
 * `nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`, `$recursiveRef`/`$recursiveAnchor`
 * (2019-09, resolved to the enclosing component), duplicate `required` entries, and component refs.
 */
export function toJsonSchema(node: unknown, component = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, component));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith(COMPONENT_REF)) {
      out[k] = `#/$defs/${v.slice(COMPONENT_REF.length)}`;
    } else if (k === '$recursiveRef') {
      out['$ref'] = `#/$defs/${component}`;
    } else if (k === 'nullable' || k === '$recursiveAnchor') {
      continue;
    } else if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'boolean') {
      const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (v && typeof node[bound] === 'number') out[k] = node[bound];
    } else if (k === 'required' && Array.isArray(v)) {
      out[k] = [...new Set(v)];
    } else if (k === 'properties' || k === 'patternProperties') {
      // property names are data, not keywords: keep them, convert their schemas
      out[k] = isObject(v)
        ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, toJsonSchema(s, component)]))
        : v;
    } else {
      out[k] = toJsonSchema(v, component);
    }
  }
  for (const k of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    const bound = k === 'exclusiveMinimum' ? 'minimum' : 'maximum';
    if (node[k] === true && typeof node[bound] === 'number') delete out[bound];
  }
  return node['nullable'] === true ? makeNullable(out) : out;
}

function makeNullable(schema: Json): Json {
  const type = schema['type'];
  if (typeof type === 'string' || Array.isArray(type)) {
    const types = Array.isArray(type) ? type : [type];
    const out: Json = { ...schema, type: types.includes('null') ? types : [...types, 'null'] };
    if (Array.isArray(schema['enum']) && !schema['enum'].includes(null))
      out['enum'] = [...schema['enum'], null];
    return out;
  }
  const { description, title, deprecated, default: dflt, ...rest } = schema;
  const meta: Json = Object.fromEntries(
    Object.entries({ description, title, deprecated, default: dflt }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  return { ...meta, anyOf: [rest, { type: 'null' }] };
}

export interface OpenAISpecValidators {
  /** `CreateChatCompletionResponse` */
  chatCompletion(obj: unknown): string[];
  /** `CreateChatCompletionStreamResponse` */
  chatCompletionChunk(obj: unknown): string[];
  /** `ErrorResponse` */
  errorResponse(obj: unknown): string[];
  /** Any schema of `components.schemas` by name. */
  validate(schemaName: string, obj: unknown): string[];
}

function collectFormats(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => collectFormats(n, into));
  else if (isObject(node)) {
    if (typeof node['format'] === 'string') into.add(node['format']);
    Object.values(node).forEach((n) => collectFormats(n, into));
  }
  return into;
}

const formatError = (e: ErrorObject): string =>
  `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`;

const cache = new Map<string, OpenAISpecValidators>();

/** Loads (once per path) the spec and returns validators that list errors (empty = valid). */
export function loadOpenAISpecValidators(
  specPath: string = findSharedSpec('openai-openapi.yaml'),
): OpenAISpecValidators {
  const cached = cache.get(specPath);
  if (cached) return cached;

  const spec = parseYaml(readFileSync(specPath, 'utf8')) as Json;
  const components = isObject(spec['components']) ? spec['components'] : {};
  const schemas = isObject(components['schemas']) ? components['schemas'] : {};
  const $defs = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [name, toJsonSchema(schema, name)]),
  );
  const root = { $id: SPEC_ID, $defs };

  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, validateFormats: true });
  addFormats(ajv);
  for (const f of collectFormats(schemas, new Set())) {
    if (!ajv.formats[f]) ajv.addFormat(f, true); // OpenAPI-only formats (unixtime, int64, binary, ...)
  }
  ajv.addSchema(root);

  const compiled = new Map<string, ValidateFunction>();
  const validate = (name: string, obj: unknown): string[] => {
    let fn = compiled.get(name);
    if (!fn) {
      if (!(name in schemas)) throw new Error(`no schema '${name}' in ${specPath}`);
      fn = ajv.compile({ $ref: `${SPEC_ID}#/$defs/${name}` });
      compiled.set(name, fn);
    }
    return fn(obj) ? [] : (fn.errors ?? []).map(formatError);
  };

  const validators: OpenAISpecValidators = {
    chatCompletion: (o) => validate('CreateChatCompletionResponse', o),
    chatCompletionChunk: (o) => validate('CreateChatCompletionStreamResponse', o),
    errorResponse: (o) => validate('ErrorResponse', o),
    validate,
  };
  cache.set(specPath, validators);
  return validators;
}
