import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  canonicalUri,
  parseAuthorization,
  signRequest,
  type AwsSigningCredentials,
  type SignableRequest,
} from './aws-sigv4.js';
import { NodeSha256 } from './node-sha256.js';

/** AWS's published SigV4 test suite (see fixtures/README.md): one folder per case. */
const SUITE = fileURLToPath(
  new URL('../../../src/core/signing/fixtures/aws-sig-v4-test-suite/', import.meta.url),
);

interface SuiteContext {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  normalize: boolean;
  region: string;
  service: string;
  sign_body: boolean;
  timestamp: string;
  omit_session_token?: boolean;
}

/** Parses a suite `request.txt`: request line, headers (folded lines continue one), body. */
function parseRequestTxt(text: string): SignableRequest {
  const [head = '', ...rest] = text.split('\n\n');
  const lines = head.split('\n');
  const first = lines.shift() ?? '';
  const sp = first.indexOf(' ');
  const method = first.slice(0, sp);
  const target = first.slice(sp + 1, first.lastIndexOf(' HTTP/'));
  const q = target.indexOf('?');
  const headers: Record<string, string[]> = {};
  let last: string[] | undefined;
  for (const line of lines) {
    if (line === '') continue;
    if (/^\s/.test(line) && last) {
      last[last.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const c = line.indexOf(':');
    const name = line.slice(0, c);
    headers[name] ??= [];
    last = headers[name];
    last.push(line.slice(c + 1));
  }
  return {
    method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    headers,
    body: rest.join('\n\n'),
  };
}

const read = (dir: string, file: string) => readFileSync(`${SUITE}${dir}/${file}`, 'utf8');

describe('AWS SigV4 test suite', () => {
  const cases = readdirSync(SUITE);
  test('the suite is present', () => assert.ok(cases.length >= 30, `${cases.length} cases`));
  for (const name of cases) {
    test(name, () => {
      const ctx = JSON.parse(read(name, 'context.json')) as SuiteContext;
      const req = parseRequestTxt(read(name, 'request.txt'));
      const credentials: AwsSigningCredentials = {
        accessKeyId: ctx.credentials.access_key_id,
        secretAccessKey: ctx.credentials.secret_access_key,
        ...(ctx.credentials.token && !ctx.omit_session_token
          ? { sessionToken: ctx.credentials.token }
          : {}),
      };
      const signed = signRequest(req, credentials, {
        region: ctx.region,
        service: ctx.service,
        now: new Date(ctx.timestamp),
        normalizePath: ctx.normalize,
        signBody: ctx.sign_body,
      });
      assert.equal(signed.canonicalRequest, read(name, 'header-canonical-request.txt'));
      assert.equal(signed.stringToSign, read(name, 'header-string-to-sign.txt'));
      assert.equal(signed.signature, read(name, 'header-signature.txt').trim());
    });
  }
});

/** The official signer's Authorization header for the same request. */
async function smithyAuthorization(
  req: { host: string; path: string; headers: Record<string, string>; body: string },
  credentials: AwsSigningCredentials,
  region: string,
  now: Date,
): Promise<string> {
  const signer = new SignatureV4({
    credentials,
    region,
    service: 'bedrock',
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: req.host,
      path: req.path,
      query: {},
      headers: { host: req.host, ...req.headers },
      body: req.body,
    },
    { signingDate: now },
  );
  return signed.headers['authorization'] as string;
}

describe('Bedrock-shaped requests agree with @smithy/signature-v4 (the AWS SDK signer)', () => {
  const creds: AwsSigningCredentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const ours = (
    req: { host: string; path: string; headers: Record<string, string>; body: string },
    c: AwsSigningCredentials,
    region: string,
    now: Date,
  ) =>
    signRequest(
      {
        method: 'POST',
        path: req.path,
        headers: { host: req.host, ...req.headers },
        body: req.body,
      },
      c,
      { region, service: 'bedrock', now, signBody: true },
    ).headers['authorization'];

  test('a Converse call: the model id with ":" is double-encoded in the canonical URI', async () => {
    const req = {
      host: 'bedrock-runtime.us-east-1.amazonaws.com',
      path: `/model/${encodeURIComponent('anthropic.claude-3-5-sonnet-20241022-v2:0')}/converse`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hello' }] }] }),
    };
    const now = new Date('2024-11-05T09:30:12Z');
    assert.equal(
      ours(req, creds, 'us-east-1', now),
      await smithyAuthorization(req, creds, 'us-east-1', now),
    );
    assert.equal(
      canonicalUri(req.path),
      '/model/anthropic.claude-3-5-sonnet-20241022-v2%253A0/converse',
    );
  });

  test('with a session token and an inference-profile ARN', async () => {
    const withToken = {
      ...creds,
      sessionToken: 'IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJH',
    };
    const arn =
      'arn:aws:bedrock:eu-west-3:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-20250514-v1:0';
    const req = {
      host: 'bedrock-runtime.eu-west-3.amazonaws.com',
      path: `/model/${encodeURIComponent(arn)}/converse-stream`,
      headers: { 'content-type': 'application/json' },
      body: '{"messages":[]}',
    };
    const now = new Date('2025-02-28T23:59:59Z');
    const a = ours(req, withToken, 'eu-west-3', now);
    assert.equal(a, await smithyAuthorization(req, withToken, 'eu-west-3', now));
    assert.match(
      a ?? '',
      /SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/,
    );
  });

  test('property: any model id, body, region and header whitespace', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.string({ maxLength: 400 }),
        fc.constantFrom('us-east-1', 'us-west-2', 'eu-central-1', 'ap-northeast-1'),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
        fc.stringMatching(/^[ a-z0-9;=/.-]{1,40}$/),
        async (modelId, body, region, date, extra) => {
          const now = new Date(Math.floor(date.getTime() / 1000) * 1000);
          const req = {
            host: `bedrock-runtime.${region}.amazonaws.com`,
            path: `/model/${encodeURIComponent(modelId)}/converse`,
            headers: { 'content-type': 'application/json', 'x-team': `  ${extra}  ` },
            body,
          };
          assert.equal(
            ours(req, creds, region, now),
            await smithyAuthorization(req, creds, region, now),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('parseAuthorization', () => {
  test('reads what signRequest writes', () => {
    const { headers } = signRequest(
      { method: 'POST', path: '/', headers: { host: 'h' }, body: '' },
      { accessKeyId: 'AKID', secretAccessKey: 's' },
      { region: 'us-west-2', service: 'bedrock', now: new Date('2024-01-02T03:04:05Z') },
    );
    const p = parseAuthorization(headers['authorization'] ?? '');
    assert.deepEqual(p, {
      accessKeyId: 'AKID',
      date: '20240102',
      region: 'us-west-2',
      service: 'bedrock',
      terminator: 'aws4_request',
      signedHeaders: ['host', 'x-amz-date'],
      signature: p?.signature,
    });
    assert.match(p?.signature ?? '', /^[0-9a-f]{64}$/);
  });
  test('rejects other schemes and incomplete headers', () => {
    for (const h of [
      'Bearer abc',
      'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host',
      'AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00',
      'AWS4-HMAC-SHA256 garbage',
    ])
      assert.equal(parseAuthorization(h), null, h);
  });
});
