import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ADDRESS_REMOVED,
  containsSecret,
  MAX_TENANT_MESSAGE,
  REDACTED,
  redactSecrets,
  removeAddresses,
  safeIdentifier,
  tenantSafeMessage,
  withoutSecret,
} from './scrub.js';

describe('redactSecrets', () => {
  const secrets: [string, string, string][] = [
    // [what, text, a piece that must be gone]
    [
      "OpenAI's 401 (a masked fragment)",
      'Incorrect API key provided: sk-abc1*****************wxyz.',
      'wxyz',
    ],
    ['OpenAI project key', 'key sk-proj-AbCdEf1234567890abcdEFGH is disabled', 'AbCdEf1234'],
    ['Anthropic key', 'invalid x-api-key sk-ant-api03-AbC_dEf-1234567890xyz', 'AbC_dEf'],
    ['Google key', 'API key not valid: AIzaSyD-1234567890abcdefghijklmnopqrs', 'SyD-1234'],
    ['AWS access key id', 'The security token AKIAIOSFODNN7EXAMPLE is invalid', 'IOSFODNN7'],
    ['GitHub token', 'token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'AbCdEfGh'],
    [
      'Hugging Face token',
      'Authorization failed for hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345',
      'IjKlMn',
    ],
    ['Groq key', 'Invalid API Key gsk_0123456789abcdefABCDEF', '0123456789ab'],
    ['a Bearer header', 'Authorization: Bearer eyJhb.secret.value rejected', 'secret.value'],
    ['a Basic header', 'got Basic dXNlcjpwYXNzd29yZA== from proxy', 'dXNlcjpw'],
    ['a labelled key', 'api_key=abcd1234efgh5678 is wrong', 'abcd1234'],
    ['a quoted header', '{"x-api-key": "0123456789abcdef0123"}', '0123456789abcdef'],
    ['a password', 'password: hunter2hunter2', 'hunter2'],
    ['a bare masked fragment', 'key ending ****1234 revoked', '1234'],
    ['a JWT', 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl expired', 'eyJzdWIi'],
    ['long hex', `signature ${'deadbeef'.repeat(4)} mismatch`, 'deadbeefdead'],
    ['long base64', 'secret Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo leaked', 'Zm9vYmFy'],
    ['an organisation id', 'Organization org-AbC123dEf456gHi has exceeded', 'AbC123'],
    ['a project id', 'Project proj_8fJk2LmN0pQr does not have access', '8fJk2'],
  ];
  for (const [what, text, piece] of secrets) {
    test(`redacts ${what}`, () => {
      const out = redactSecrets(text);
      assert.ok(!out.includes(piece), out);
      assert.ok(out.includes(REDACTED), out);
    });
  }

  const kept = [
    "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.",
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
    'Missing required key: model',
    'user-provided content is not allowed here',
    'The model gpt-4.1-mini does not support tools',
    'messages.0.content: Input should be a valid list',
    'Token limit exceeded for the Basic plan',
    'temperature must be <= 2, got 3.5',
    'Too many tokens: **bold** is fine',
    'meta-llama/Llama-3.1-70B-Instruct-Turbo is not available',
  ];
  for (const text of kept) {
    test(`leaves ordinary text alone: ${text.slice(0, 40)}`, () => {
      assert.equal(redactSecrets(text), text);
    });
  }
});

describe('removeAddresses', () => {
  const cases: [string, string[]][] = [
    ['connect ECONNREFUSED 127.0.0.1:4321', ['127.0.0.1', '4321']],
    ['upstream https://internal.proxy.lan:8443/v1/chat failed', ['internal', '8443', 'https']],
    ['could not reach api.openai.com', ['api.openai.com']],
    ['see platform.openai.com/account/api-keys', ['platform.openai.com', 'api-keys']],
    ['listening on [::1]:8080', ['::1', '8080']],
    ['route to fe80::1 failed', ['fe80::1']],
    ['peer 2001:db8:0:0:0:0:0:1 closed', ['2001:db8']],
    ['vllm at my-vllm.svc.cluster.local:8000 is down', ['my-vllm', '8000']],
    ['proxy proxy.lan:3128 denied', ['proxy.lan', '3128']],
    ['ollama localhost:11434 not running', ['localhost', '11434']],
    ['bucket s3://models-prod/llama failed', ['models-prod']],
    ['node gpu-7.dc1.internal returned 500', ['gpu-7']],
  ];
  for (const [text, gone] of cases) {
    test(`removes the address in: ${text}`, () => {
      const out = removeAddresses(text);
      for (const g of gone) assert.ok(!out.includes(g), `${g} in ${out}`);
      assert.ok(out.includes(ADDRESS_REMOVED), out);
    });
  }

  test('leaves times, versions of two parts and model ids alone', () => {
    for (const text of [
      'retry at 12:30:45',
      'gpt-4.5-preview is deprecated',
      'claude-3.5-sonnet',
      'ratio 4:3',
      'response_format.json_schema is invalid',
      'std::vector',
    ])
      assert.equal(removeAddresses(text), text);
  });
});

describe('tenantSafeMessage', () => {
  test('an ordinary validation message passes unchanged', () => {
    const m = "Invalid value: 'robot'. Supported values are: 'system', 'user' and 'assistant'.";
    assert.equal(tenantSafeMessage(m), m);
  });

  test('secrets and addresses go, the rest stays readable', () => {
    const out = tenantSafeMessage(
      'Invalid request: key sk-live-0123456789abcdef rejected by https://10.0.3.7:8443/v1 (org-Xy12345678ab)',
    );
    assert.equal(
      out,
      `Invalid request: key ${REDACTED} rejected by ${ADDRESS_REMOVED} (${REDACTED})`,
    );
  });

  test('nothing, markup, or nothing readable left: null', () => {
    assert.equal(tenantSafeMessage(null), null);
    assert.equal(tenantSafeMessage(undefined), null);
    assert.equal(tenantSafeMessage(''), null);
    assert.equal(tenantSafeMessage('   '), null);
    assert.equal(
      tenantSafeMessage('<html><head><title>400 Bad Request</title></head><body>x</body></html>'),
      null,
    );
    assert.equal(tenantSafeMessage('<!DOCTYPE html><p>Bad Request</p>'), null);
    assert.equal(tenantSafeMessage('Bad request<br/>try again'), null);
    assert.equal(tenantSafeMessage('sk-live-0123456789abcdef'), null);
    assert.equal(tenantSafeMessage('https://internal.example/x: sk-live-0123456789abcdef'), null);
  });

  test('control characters and runs of whitespace collapse', () => {
    assert.equal(tenantSafeMessage('bad\r\n\tvalue\u0000 here  '), 'bad value here');
  });

  test('the length is capped', () => {
    const out = tenantSafeMessage('word '.repeat(10_000))!;
    assert.ok(out.length <= MAX_TENANT_MESSAGE, `${out.length}`);
    assert.ok(out.endsWith('…'));
  });

  test('a value comparison is not markup', () => {
    assert.equal(tenantSafeMessage('n must be < 10 and > 0'), 'n must be < 10 and > 0');
  });
});

describe('safeIdentifier', () => {
  test('short identifiers pass', () => {
    for (const id of ['invalid_value', 'messages[0].content', 'context_length_exceeded', 'tools'])
      assert.equal(safeIdentifier(id), id);
  });
  test('anything else is dropped', () => {
    for (const id of [
      'sk-live-0123456789abcdef',
      'has space',
      'x'.repeat(65),
      'api.openai.com',
      '',
      null,
      undefined,
    ])
      assert.equal(safeIdentifier(id), null, String(id));
  });
});

describe('withoutSecret', () => {
  const key = 'sk-sim-0123456789abcdef';
  test('removes the whole key and any 8-character piece of it', () => {
    assert.equal(withoutSecret(`the key ${key} failed`, key), `the key ${REDACTED} failed`);
    const out = withoutSecret('fragment 89abcdef and 3456789a seen', key);
    assert.ok(!out.includes('89abcdef') && !out.includes('3456789a'), out);
    assert.equal(withoutSecret('nothing here', key), 'nothing here');
  });
  test('containsSecret', () => {
    assert.equal(containsSecret(`x ${key.slice(5, 13)} y`, key), true);
    assert.equal(containsSecret('x 0123 y', key), false);
    assert.equal(containsSecret('anything', ''), false);
  });
});

describe('cost', () => {
  test('linear on adversarial 64 KiB inputs (a backtracking rule took 10 s on one)', () => {
    const inputs = [
      'a.'.repeat(32_768),
      'a-'.repeat(32_768),
      '1:'.repeat(32_768),
      'a'.repeat(65_536),
      'ab1-'.repeat(16_384),
      '1.1.1.'.repeat(10_000),
      'key='.repeat(16_384),
      '*'.repeat(65_536),
    ];
    const started = performance.now();
    for (const text of inputs) {
      redactSecrets(text);
      removeAddresses(text);
      tenantSafeMessage(text);
    }
    const ms = performance.now() - started;
    // ~50 ms here; a quadratic rule takes seconds per input.
    assert.ok(ms < 2_000, `${Math.round(ms)} ms`);
  });
});
