/**
 * JSON Schema → Gemini's `Schema` (a subset of OpenAPI 3.0's schema object), for
 * `generationConfig.responseSchema` and function declarations' `parameters`.
 *
 * Gemini's `Schema` knows: type (STRING, NUMBER, INTEGER, BOOLEAN, ARRAY, OBJECT, NULL),
 * format, title, description, nullable, enum (strings), maxItems, minItems, properties,
 * required, minProperties, maxProperties, minLength, maxLength, pattern, example, anyOf,
 * propertyOrdering, default, items, minimum, maximum. Everything else is dropped
 * (`additionalProperties`, `$schema`, `$id`, `examples`, `const` becomes a one-value enum, ...),
 * a type list with `null` becomes `nullable`, `oneOf` becomes `anyOf`.
 *
 * A schema with references (`$ref`) has no faithful translation: it is sent as JSON Schema
 * instead (`responseJsonSchema` / `parametersJsonSchema`, which Gemini 2.5 and later take),
 * see {@link usesReferences}.
 */
import { isObj, type Json } from '../core/json.js';

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

/** String formats Gemini accepts (others are refused with a 400). */
const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['float', 'double', 'int32', 'int64']);

const KEPT_NUMBERS = [
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
] as const;

/** Whether a JSON Schema uses `$ref` anywhere. */
export function usesReferences(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(usesReferences);
  if (!isObj(schema)) return false;
  if (typeof schema['$ref'] === 'string') return true;
  return Object.values(schema).some(usesReferences);
}

export interface SchemaOptions {
  /**
   * Adds `propertyOrdering` (the declared order of an object's keys), which Gemini follows when
   * it writes structured output; function parameters do not need it.
   */
  propertyOrdering?: boolean;
}

/** Converts one JSON Schema to Gemini's `Schema`. */
export function toGeminiSchema(schema: unknown, opts: SchemaOptions = {}): Json {
  if (!isObj(schema)) return {};
  const convert = (s: unknown): Json => toGeminiSchema(s, opts);
  const out: Json = {};
  let types: string[] = [];
  const raw = schema['type'];
  if (typeof raw === 'string') types = [raw];
  else if (Array.isArray(raw)) types = raw.filter((t): t is string => typeof t === 'string');
  types = types.filter((t) => TYPES.has(t));
  const nullable = types.includes('null') || schema['nullable'] === true;
  const concrete = types.filter((t) => t !== 'null');

  // Branches: anyOf/oneOf, and a list of several concrete types.
  const branches = [schema['anyOf'], schema['oneOf']].find(Array.isArray) as unknown[] | undefined;
  if (branches) {
    const nonNull = branches.filter((b) => !(isObj(b) && b['type'] === 'null'));
    const branchNullable = nonNull.length < branches.length;
    if (nonNull.length === 1) {
      Object.assign(out, convert(nonNull[0]));
    } else {
      out['anyOf'] = nonNull.map(convert);
    }
    if (branchNullable || nullable) out['nullable'] = true;
  } else if (concrete.length > 1) {
    out['anyOf'] = concrete.map((t) => convert({ ...schema, type: t, nullable: false }));
  } else if (concrete.length === 1) {
    out['type'] = concrete[0]!.toUpperCase();
  } else if (types.includes('null')) {
    out['type'] = 'NULL';
  } else if (isObj(schema['properties'])) {
    out['type'] = 'OBJECT';
  } else if (schema['items'] !== undefined) {
    out['type'] = 'ARRAY';
  } else if (Array.isArray(schema['enum']) || 'const' in schema) {
    out['type'] = 'STRING';
  }
  if (nullable && out['type'] !== 'NULL' && !branches) out['nullable'] = true;

  // allOf: the usual use is one schema (or several object parts) wrapped; merge them.
  if (Array.isArray(schema['allOf'])) {
    for (const part of schema['allOf']) {
      const g = convert(part);
      const props = { ...(isObj(out['properties']) ? out['properties'] : {}) };
      if (isObj(g['properties'])) Object.assign(props, g['properties']);
      const required = [
        ...(Array.isArray(out['required']) ? out['required'] : []),
        ...(Array.isArray(g['required']) ? g['required'] : []),
      ];
      Object.assign(out, g);
      if (Object.keys(props).length > 0) out['properties'] = props;
      if (required.length > 0) out['required'] = [...new Set(required)];
    }
  }

  for (const k of ['title', 'description', 'pattern'] as const)
    if (typeof schema[k] === 'string') out[k] = schema[k];
  for (const k of KEPT_NUMBERS) if (typeof schema[k] === 'number') out[k] = schema[k];
  if (schema['default'] !== undefined) out['default'] = schema['default'];
  if (Array.isArray(schema['examples']) && schema['examples'].length > 0)
    out['example'] = schema['examples'][0];
  else if (schema['example'] !== undefined) out['example'] = schema['example'];

  const format = typeof schema['format'] === 'string' ? schema['format'] : undefined;
  if (format) {
    if (out['type'] === 'STRING' && STRING_FORMATS.has(format)) out['format'] = format;
    if ((out['type'] === 'NUMBER' || out['type'] === 'INTEGER') && NUMBER_FORMATS.has(format))
      out['format'] = format;
  }

  // Gemini's enums are string enums.
  const values = Array.isArray(schema['enum'])
    ? schema['enum']
    : 'const' in schema
      ? [schema['const']]
      : undefined;
  if (values && (out['type'] === 'STRING' || out['type'] === undefined)) {
    out['type'] = 'STRING';
    out['enum'] = values.filter((v) => v !== null).map(String);
    if (values.includes(null)) out['nullable'] = true;
  }

  if (isObj(schema['properties'])) {
    const props: Json = {};
    for (const [k, v] of Object.entries(schema['properties'])) props[k] = convert(v);
    out['properties'] = props;
    // The declared order is the order the model should write the keys in.
    if (opts.propertyOrdering && Object.keys(props).length > 1)
      out['propertyOrdering'] = Object.keys(props);
  }
  if (Array.isArray(schema['required'])) {
    const required = schema['required'].filter((r): r is string => typeof r === 'string');
    if (required.length > 0) out['required'] = required;
  }
  if (schema['items'] !== undefined) {
    const items = Array.isArray(schema['items']) ? schema['items'][0] : schema['items'];
    out['items'] = convert(items);
  }
  return out;
}
