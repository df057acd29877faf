/**
 * Test support (not exported from the package index): loads the reference
 * OpenAPI documents from `<repo>/../shared/specs/` and validates values
 * against their component schemas with a small validator that understands the
 * subset of JSON Schema / OpenAPI those documents use for chat completions
 * (`$ref`, `type`, `nullable`, `enum`, `properties`, `required`, `items`,
 * `anyOf`/`oneOf`/`allOf`, `additionalProperties`, min/max bounds).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = { [k: string]: Json };

/** Walks up from `fromUrl` to the directory holding `nx.json` or the `turnpike` root package.json. */
export function findRepoRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'turnpike')
          return dir;
      } catch {
        // not JSON: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${fromUrl}`);
    dir = parent;
  }
}

export function specsDir(): string {
  return resolve(findRepoRoot(), '..', 'shared', 'specs');
}

const docs = new Map<string, OpenApiDoc>();

export class OpenApiDoc {
  constructor(readonly doc: { components: { schemas: Record<string, Schema> } }) {}

  schema(name: string): Schema {
    const s = this.doc.components.schemas[name];
    if (s === undefined) throw new Error(`no schema ${name}`);
    return s;
  }

  /** Errors of `value` against component `name` (empty = valid). */
  validate(name: string, value: unknown): string[] {
    const errors: string[] = [];
    this.check(this.schema(name), value, '$', errors);
    return errors;
  }

  private resolve(schema: Schema): Schema {
    let s = schema;
    for (let i = 0; typeof s['$ref'] === 'string' && i < 32; i++) {
      const ref = s['$ref'];
      const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
      if (m === null) throw new Error(`unsupported $ref ${ref}`);
      const { $ref: _drop, ...rest } = s;
      // Siblings of $ref (e.g. `nullable`, `description`) apply too.
      s = { ...this.schema(m[1]!), ...rest };
    }
    return s;
  }

  private check(raw: Schema, value: unknown, at: string, errors: string[]): void {
    const s = this.resolve(raw);
    if (value === null && s['nullable'] === true) return;

    if (Array.isArray(s['allOf'])) {
      for (const sub of s['allOf']) this.check(sub as Schema, value, at, errors);
    }
    if (Array.isArray(s['anyOf'])) {
      const ok = s['anyOf'].some((sub) => this.errorsOf(sub as Schema, value, at).length === 0);
      if (!ok)
        errors.push(
          `${at}: matches no anyOf branch (${this.branchHints(s['anyOf'] as Schema[], value, at)})`,
        );
    }
    if (Array.isArray(s['oneOf'])) {
      const n = s['oneOf'].filter(
        (sub) => this.errorsOf(sub as Schema, value, at).length === 0,
      ).length;
      if (n !== 1) {
        errors.push(
          `${at}: matches ${n} oneOf branches (${n === 0 ? this.branchHints(s['oneOf'] as Schema[], value, at) : 'ambiguous'})`,
        );
      }
    }

    const type = s['type'];
    if (type !== undefined) {
      const types = Array.isArray(type) ? (type as string[]) : [type as string];
      if (s['nullable'] === true) types.push('null');
      if (!types.some((t) => hasType(value, t))) {
        errors.push(
          `${at}: expected type ${types.join('|')}, got ${JSON.stringify(value)?.slice(0, 60)}`,
        );
        return;
      }
    }
    if (Array.isArray(s['enum']) && !s['enum'].some((e) => e === value)) {
      errors.push(`${at}: ${JSON.stringify(value)} not in enum ${JSON.stringify(s['enum'])}`);
    }
    if (typeof value === 'number') {
      if (typeof s['minimum'] === 'number' && value < s['minimum'])
        errors.push(`${at}: below minimum`);
      if (typeof s['maximum'] === 'number' && value > s['maximum'])
        errors.push(`${at}: above maximum`);
    }
    if (
      typeof value === 'string' &&
      typeof s['maxLength'] === 'number' &&
      value.length > s['maxLength']
    ) {
      errors.push(`${at}: longer than maxLength`);
    }
    if (Array.isArray(value)) {
      if (typeof s['minItems'] === 'number' && value.length < s['minItems'])
        errors.push(`${at}: too few items`);
      if (typeof s['maxItems'] === 'number' && value.length > s['maxItems'])
        errors.push(`${at}: too many items`);
      if (isSchema(s['items'])) {
        const items = s['items'];
        value.forEach((v, i) => this.check(items, v, `${at}[${i}]`, errors));
      }
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const obj = value as Record<string, unknown>;
      const props = isSchema(s['properties']) ? (s['properties'] as Record<string, Schema>) : {};
      if (Array.isArray(s['required'])) {
        for (const r of s['required'] as string[])
          if (!(r in obj)) errors.push(`${at}: missing required '${r}'`);
      }
      for (const [k, v] of Object.entries(obj)) {
        const p = props[k];
        if (p !== undefined) this.check(p, v, `${at}.${k}`, errors);
        else if (s['additionalProperties'] === false)
          errors.push(`${at}: unexpected property '${k}'`);
        else if (isSchema(s['additionalProperties']))
          this.check(s['additionalProperties'], v, `${at}.${k}`, errors);
      }
    }
  }

  private errorsOf(schema: Schema, value: unknown, at: string): string[] {
    const errors: string[] = [];
    this.check(schema, value, at, errors);
    return errors;
  }

  private branchHints(branches: Schema[], value: unknown, at: string): string {
    return branches.map((b) => this.errorsOf(b, value, at)[0] ?? 'ok').join(' | ');
  }
}

function isSchema(x: unknown): x is Schema {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

/** The parsed OpenAPI document `file` of the shared specs directory (cached). */
export function loadSpec(file: 'openai-openapi.yaml' | 'openrouter-openapi.yaml'): OpenApiDoc {
  let doc = docs.get(file);
  if (doc === undefined) {
    const text = readFileSync(join(specsDir(), file), 'utf8');
    doc = new OpenApiDoc(parse(text, { maxAliasCount: -1 }) as OpenApiDoc['doc']);
    docs.set(file, doc);
  }
  return doc;
}
