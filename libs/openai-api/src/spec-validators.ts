/**
 * Validators for OpenAI wire objects, compiled with Ajv (JSON Schema 2020-12) from the committed,
 * structure-only fixture of OpenAI's component schemas, `libs/openai-api/schemas/openai-schemas.json`.
 * That fixture is derived from OpenAI's OpenAPI document by `libs/openai-api/src/reference-schemas.ts`
 * (which also rewrites OpenAPI 3.0's `nullable` into type unions); nothing here reads anything
 * outside the repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

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

/** The committed fixture of OpenAI's component schemas. */
export function openAIReferenceSchemasFile(from?: string): string {
  return join(findRepoRoot(from), 'libs', 'openai-api', 'schemas', 'openai-schemas.json');
}

const SPEC_ID = 'https://turnpike.local/openai-schemas.json';

export interface OpenAISpecValidators {
  /** `CreateChatCompletionResponse` */
  chatCompletion(obj: unknown): string[];
  /** `CreateChatCompletionStreamResponse` */
  chatCompletionChunk(obj: unknown): string[];
  /** `ErrorResponse` */
  errorResponse(obj: unknown): string[];
  /** Any schema of the fixture's `$defs` by name. */
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

/** Loads (once per path) the fixture and returns validators that list errors (empty = valid). */
export function loadOpenAISpecValidators(
  schemasFile: string = openAIReferenceSchemasFile(),
): OpenAISpecValidators {
  const cached = cache.get(schemasFile);
  if (cached) return cached;

  const fixture = JSON.parse(readFileSync(schemasFile, 'utf8')) as Json;
  const $defs = isObject(fixture['$defs']) ? fixture['$defs'] : {};

  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false, validateFormats: true });
  addFormats(ajv);
  for (const f of collectFormats($defs, new Set())) {
    if (!ajv.formats[f]) ajv.addFormat(f, true); // OpenAPI-only formats (unixtime, int64, binary, ...)
  }
  ajv.addSchema({ $id: SPEC_ID, $defs });

  const compiled = new Map<string, ValidateFunction>();
  const validate = (name: string, obj: unknown): string[] => {
    let fn = compiled.get(name);
    if (!fn) {
      if (!(name in $defs))
        throw new Error(
          `no schema '${name}' in ${schemasFile} (add it to REFERENCE_ROOTS in libs/openai-api/src/reference-schemas.ts and regenerate)`,
        );
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
  cache.set(schemasFile, validators);
  return validators;
}
