import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  deriveReferenceSchemas,
  generateReferenceSchemas,
  loadReferenceSchemas,
  REFERENCE_ROOTS,
  REFERENCE_SCHEMAS_FILE,
  SHARED_OPENAI_SPEC,
  structuralSchema,
} from './reference-schemas.js';
import { loadSpec } from './spec-support.js';

describe('the committed OpenAI reference schemas', () => {
  test('drift: the fixture is what the generator derives from ../shared/specs', (t) => {
    if (!existsSync(SHARED_OPENAI_SPEC)) {
      t.skip(
        `${SHARED_OPENAI_SPEC} is not present beside the repository: the drift check of ` +
          'libs/openai-api/schemas/openai-schemas.json is skipped (the tests use the committed fixture)',
      );
      return;
    }
    assert.equal(
      readFileSync(REFERENCE_SCHEMAS_FILE, 'utf8'),
      generateReferenceSchemas(SHARED_OPENAI_SPEC),
      'the fixture has drifted: run node libs/openai-api/dist/reference-schemas.js and commit it',
    );
  });

  test('holds every root and every component they reference, structure only', () => {
    const { $defs } = loadReferenceSchemas();
    for (const root of REFERENCE_ROOTS) assert.ok(root in $defs, root);
    const text = JSON.stringify($defs);
    for (const ref of text.matchAll(/"\$ref":"#\/\$defs\/([^"]+)"/g))
      assert.ok(ref[1]! in $defs, `dangling $ref ${ref[1]}`);
    assert.doesNotMatch(text, /"nullable"|"\$ref":"#\/components|"example"|"x-[a-z]/);
  });

  test('OpenAPI 3.0 nullable becomes a 2020-12 type union; annotations go, data stays', () => {
    const doc = {
      info: { version: '9' },
      components: {
        schemas: {
          Root: {
            type: 'object',
            description: 'dropped',
            required: ['a', 'a', 'description'],
            properties: {
              a: { type: 'string', nullable: true, enum: ['x'], example: 'x' },
              b: { $ref: '#/components/schemas/Leaf', nullable: true },
              description: { type: 'integer', minimum: 0, exclusiveMinimum: true, default: 1 },
            },
            additionalProperties: false,
          },
          Leaf: { type: 'array', items: { anyOf: [{ type: 'number' }, { $recursiveRef: '#' }] } },
          Unused: { type: 'string' },
        },
      },
    };
    const out = deriveReferenceSchemas(doc, ['Root']);
    assert.deepEqual(Object.keys(out.$defs), ['Leaf', 'Root']);
    assert.deepEqual(out.$defs['Root'], {
      type: 'object',
      required: ['a', 'description'],
      properties: {
        a: { type: ['string', 'null'], enum: ['x', null] },
        b: { anyOf: [{ $ref: '#/$defs/Leaf' }, { type: 'null' }] },
        description: { type: 'integer', exclusiveMinimum: 0 },
      },
      additionalProperties: false,
    });
    assert.deepEqual(out.$defs['Leaf'], {
      type: 'array',
      items: { anyOf: [{ type: 'number' }, { $ref: '#/$defs/Leaf' }] },
    });
    assert.throws(() => deriveReferenceSchemas(doc, ['Missing']), /no component 'Missing'/);
    assert.throws(() => structuralSchema({ $ref: 'other.yaml#/X' }, 'R'), /unsupported \$ref/);
  });

  test('a strict validator over the fixture accepts null where OpenAI sends it, and rejects a wrong value', () => {
    const spec = loadSpec();
    const chunk = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }],
      usage: null,
    };
    assert.deepEqual(spec.validate('CreateChatCompletionStreamResponse', chunk), []);
    const bad = { ...chunk, choices: [{ ...chunk.choices[0], finish_reason: 'done' }] };
    assert.notDeepEqual(spec.validate('CreateChatCompletionStreamResponse', bad), []);
    assert.throws(() => spec.validate('NotInTheFixture', {}), /no schema NotInTheFixture/);
  });
});
