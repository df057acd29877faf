/**
 * The TLS and SASL settings of `createKafka` reach the client and the wire: a stand-in broker (a
 * TLS server that speaks just enough of the Kafka protocol: ApiVersions, SaslHandshake, then
 * reads the first SASL message) sees the client's certificate, the mechanism and the user.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Admin } from '@platformatic/kafka';
import { kafkaClientConfig, type KafkaSettings } from './client.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kafka-tls-'));
const pem = (name: string) => readFileSync(path.join(dir, name), 'utf8');
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, by openssl. */
function makeCertificates(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
  );
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'turnpike-client'],
  ] as const) {
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...(name === 'server' ? ['-extfile', 'san.ext'] : []),
    );
  }
}

interface Seen {
  clientCn?: string;
  authorized?: boolean;
  mechanism?: string;
  saslFirst?: string;
}

/** Frames a response: size, correlation id, body. */
function response(correlationId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 4, 0);
  head.writeInt32BE(correlationId, 4);
  return Buffer.concat([head, body]);
}

function apiVersionsBody(version: number): Buffer {
  const apis: Array<[number, number, number]> = [
    [18, 0, 2], // ApiVersions
    [17, 0, 1], // SaslHandshake
    [36, 0, 2], // SaslAuthenticate
    [3, 0, 5], // Metadata
  ];
  const b = Buffer.alloc(2 + 4 + apis.length * 6 + (version >= 1 ? 4 : 0));
  let o = b.writeInt16BE(0, 0);
  o = b.writeInt32BE(apis.length, o);
  for (const [k, min, max] of apis) {
    o = b.writeInt16BE(k, o);
    o = b.writeInt16BE(min, o);
    o = b.writeInt16BE(max, o);
  }
  if (version >= 1) b.writeInt32BE(0, o);
  return b;
}

function handshakeBody(mechanism: string): Buffer {
  const m = Buffer.from(mechanism);
  const b = Buffer.alloc(2 + 4 + 2 + m.length);
  let o = b.writeInt16BE(0, 0);
  o = b.writeInt32BE(1, o);
  o = b.writeInt16BE(m.length, o);
  m.copy(b, o);
  return b;
}

/**
 * The first SASL message: a SaslAuthenticate request (key 36; v2 is flexible: tagged fields
 * after the client id, compact bytes), or the raw frame of clients that send none.
 */
function saslAuthBytes(frame: Buffer): Buffer {
  if (frame.readInt16BE(0) !== 36) return frame;
  const version = frame.readInt16BE(2);
  let o = 10 + Math.max(0, frame.readInt16BE(8));
  if (version < 2) return frame.subarray(o + 4, o + 4 + frame.readInt32BE(o));
  o += 1; // no tagged fields in the header
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = frame[o++]!;
    length |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return frame.subarray(o, o + length - 1);
}

/** The stand-in broker: records what each connection showed, then closes it. */
async function standInBroker(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = tls.createServer({
    key: pem('server.key'),
    cert: pem('server.pem'),
    ca: [pem('ca.pem')],
    requestCert: true,
    rejectUnauthorized: false,
  });
  server.on('tlsClientError', () => undefined);
  server.on('secureConnection', (socket) => {
    const s: Seen = {
      authorized: socket.authorized,
      clientCn: (socket.getPeerCertificate().subject as { CN?: string } | undefined)?.CN,
    };
    seen.push(s);
    let buf = Buffer.alloc(0);
    let sasl = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        if (sasl) {
          s.saslFirst = saslAuthBytes(frame).toString('utf8');
          socket.destroy();
          return;
        }
        const apiKey = frame.readInt16BE(0);
        const version = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        const clientIdLength = frame.readInt16BE(8);
        const body = frame.subarray(10 + Math.max(0, clientIdLength));
        if (apiKey === 18) socket.write(response(correlationId, apiVersionsBody(version)));
        else if (apiKey === 17) {
          s.mechanism = body.subarray(2, 2 + body.readInt16BE(0)).toString();
          sasl = true;
          socket.write(response(correlationId, handshakeBody(s.mechanism)));
        } else socket.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Connects an admin client with `settings`, once, no retries; the stand-in always refuses. */
async function connect(settings: Omit<KafkaSettings, 'clientId'>): Promise<Error> {
  const admin = new Admin({
    ...kafkaClientConfig({ clientId: 'spec', ...settings }, quiet),
    retries: 0,
    connectTimeout: 2000,
  });
  try {
    await admin.metadata({ topics: [] });
  } catch (e) {
    return e as Error;
  } finally {
    await admin.close().catch(() => undefined);
  }
  throw new Error('connected to a stand-in that never answers metadata');
}

let broker: Awaited<ReturnType<typeof standInBroker>>;
before(async () => {
  makeCertificates();
  broker = await standInBroker();
});
after(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

test('TLS with a private CA and a client certificate, then SCRAM-SHA-512 as the configured user', async () => {
  await connect({
    brokers: [`localhost:${broker.port}`],
    ssl: { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') },
    sasl: { mechanism: 'scram-sha-512', username: 'turnpike-gateway', password: 's3cret' },
  });
  const s = broker.seen.at(-1)!;
  assert.equal(s.authorized, true, 'the client certificate is signed by the CA');
  assert.equal(s.clientCn, 'turnpike-client');
  assert.equal(s.mechanism, 'SCRAM-SHA-512');
  assert.match(s.saslFirst ?? '', /^n,,n=turnpike-gateway,r=[^,]+$/);
});

test('PLAIN carries the user and the password; no client certificate without one configured', async () => {
  await connect({
    brokers: [`127.0.0.1:${broker.port}`],
    ssl: { ca: pem('ca.pem') },
    sasl: { mechanism: 'plain', username: 'alice', password: 'pw-1' },
  });
  const s = broker.seen.at(-1)!;
  assert.equal(s.mechanism, 'PLAIN');
  assert.equal(s.saslFirst, '\0alice\0pw-1');
  assert.equal(s.authorized, false);
  assert.equal(s.clientCn, undefined);
});

test('the system CAs do not trust a private CA: no TLS session, so the CA setting is what made it work', async () => {
  const before = broker.seen.length;
  const err = await connect({ brokers: [`localhost:${broker.port}`], ssl: {} });
  assert.match(
    `${err.message} ${String((err as { cause?: unknown }).cause)}`,
    /certificate|self.signed|connect/i,
  );
  assert.equal(broker.seen.length, before, 'no secure connection was established');
});

test('without ssl the client speaks plaintext (the TLS server sees no handshake)', async () => {
  const before = broker.seen.length;
  await connect({ brokers: [`127.0.0.1:${broker.port}`] });
  assert.equal(broker.seen.length, before);
  assert.equal(kafkaClientConfig({ brokers: ['b:1'], clientId: 'x' }, quiet).tls, undefined);
});
