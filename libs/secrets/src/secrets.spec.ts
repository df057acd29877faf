import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { SealedSecret } from '@turnpike/contracts';
import {
  canonicalJson,
  fingerprintMatches,
  keyedMac,
  keyedMacMatches,
  fingerprintSecret,
  maskSecret,
  MasterKeyError,
  MasterKeyRing,
  openSecret,
  rewrapSecret,
  sealSecret,
  sealToTransport,
  SecretError,
  TransportKeys,
} from './index.js';

const b64 = (b: Buffer) => b.toString('base64');
const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring1 = MasterKeyRing.parse(`k1:${b64(k1)}`);
const AAD = 'turnpike/connector/account/v1|acct_0123456789abcdef01234567|1';
const payload = Buffer.from(
  JSON.stringify({ credentials: { type: 'api_key', apiKey: 'sk-test-secret-value-1234' } }),
);

/** Flips one bit of a base64 field. */
function flip(s: string, byte = 0): string {
  const b = Buffer.from(s, 'base64');
  b[byte] = b[byte]! ^ 0x01;
  return b64(b);
}

describe('master keys', () => {
  test('one bare key: its id is derived, stable, and says nothing of the key', () => {
    const a = MasterKeyRing.parse(b64(k1));
    const b = MasterKeyRing.parse(`\n  ${b64(k1)}\n`);
    assert.match(a.current.id, /^k[0-9a-f]{8}$/);
    assert.equal(a.current.id, b.current.id);
    assert.notEqual(a.current.id, MasterKeyRing.parse(b64(k2)).current.id);
    assert.ok(!k1.toString('hex').includes(a.current.id.slice(1)));
  });

  test('several keys with ids: the first is current, every one is readable', () => {
    const r = MasterKeyRing.parse(`new:${b64(k2)}, old:${b64(k1)}`);
    assert.equal(r.current.id, 'new');
    assert.deepEqual(r.ids, ['new', 'old']);
    assert.ok(r.get('old')!.material.equals(k1));
    // Newlines (a mounted file) separate entries too.
    assert.deepEqual(MasterKeyRing.parse(`new:${b64(k2)}\nold:${b64(k1)}\n`).ids, ['new', 'old']);
  });

  test('refused: wrong length, not base64, duplicates, missing ids; no key material in the message', () => {
    const short = b64(randomBytes(16));
    const cases = [
      [short, /16 bytes/],
      ['not*base64!!', /not base64/],
      [`a:${b64(k1)} a:${b64(k2)}`, /twice/],
      [`${b64(k1)} ${b64(k2)}`, /needs an id/],
      ['', /empty/],
      [`bad/id:${b64(k1)}`, /id must be/],
    ] as const;
    for (const [text, why] of cases) {
      assert.throws(
        () => MasterKeyRing.parse(text),
        (e: unknown) => {
          assert.ok(e instanceof MasterKeyError);
          assert.match(e.message, why);
          for (const secret of [short, b64(k1), b64(k2)]) assert.ok(!e.message.includes(secret));
          return true;
        },
      );
    }
  });
});

describe('envelope encryption', () => {
  test('round trip; every seal has its own data key and nonces', () => {
    const a = sealSecret(payload, AAD, ring1);
    const b = sealSecret(payload, AAD, ring1);
    assert.equal(a.masterKeyId, 'k1');
    assert.ok(openSecret(a, AAD, ring1).equals(payload));
    assert.notEqual(a.ciphertext, b.ciphertext);
    assert.notEqual(a.wrappedKey, b.wrappedKey);
    assert.notEqual(a.nonce, b.nonce);
    // Nothing of the plaintext is visible in the sealed form.
    const all = JSON.stringify(a);
    assert.ok(!all.includes('sk-test-secret'));
    assert.ok(!all.includes(b64(Buffer.from('sk-test-secret-value-1234'))));
  });

  test('tampering with the ciphertext, either nonce, the wrapped key or the additional data is refused', () => {
    const s = sealSecret(payload, AAD, ring1);
    const tampered: Array<[string, SealedSecret, string]> = [
      ['ciphertext', { ...s, ciphertext: flip(s.ciphertext) }, AAD],
      [
        'tag',
        { ...s, ciphertext: flip(s.ciphertext, Buffer.from(s.ciphertext, 'base64').length - 1) },
        AAD,
      ],
      ['nonce', { ...s, nonce: flip(s.nonce) }, AAD],
      ['wrapped key', { ...s, wrappedKey: flip(s.wrappedKey) }, AAD],
      ['wrap nonce', { ...s, wrapNonce: flip(s.wrapNonce) }, AAD],
      ['another account', s, AAD.replace('acct_0123', 'acct_9123')],
      ['another version', s, AAD.replace(/\|1$/, '|2')],
      ['truncated', { ...s, ciphertext: b64(Buffer.alloc(4)) }, AAD],
    ];
    for (const [what, sealed, aad] of tampered)
      assert.throws(() => openSecret(sealed, aad, ring1), SecretError, what);
  });

  test('a data key moved to another account does not open it', () => {
    const other = 'turnpike/connector/account/v1|acct_ffffffffffffffffffffffff|1';
    const a = sealSecret(payload, AAD, ring1);
    const b = sealSecret(Buffer.from('{"other":true}'), other, ring1);
    const swapped = { ...a, wrappedKey: b.wrappedKey, wrapNonce: b.wrapNonce };
    assert.throws(() => openSecret(swapped, AAD, ring1), SecretError);
  });

  test('the wrong master key, or an unknown one, is refused', () => {
    const s = sealSecret(payload, AAD, ring1);
    const impostor = MasterKeyRing.parse(`k1:${b64(k2)}`);
    assert.throws(() => openSecret(s, AAD, impostor), /authentication failed/);
    assert.throws(
      () => openSecret(s, AAD, MasterKeyRing.parse(`k2:${b64(k2)}`)),
      /master key 'k1'.*not configured/,
    );
  });

  test('master key rotation: new writes use the new key, old secrets still open, and re-wrap', () => {
    const old = sealSecret(payload, AAD, ring1);
    const rotated = MasterKeyRing.parse(`k2:${b64(k2)},k1:${b64(k1)}`);
    assert.ok(openSecret(old, AAD, rotated).equals(payload));
    assert.equal(sealSecret(payload, AAD, rotated).masterKeyId, 'k2');
    const rewrapped = rewrapSecret(old, AAD, rotated);
    assert.equal(rewrapped.masterKeyId, 'k2');
    assert.equal(rewrapped.ciphertext, old.ciphertext);
    // Once re-wrapped, the old key can go.
    const onlyNew = MasterKeyRing.parse(`k2:${b64(k2)}`);
    assert.ok(openSecret(rewrapped, AAD, onlyNew).equals(payload));
    assert.throws(() => openSecret(old, AAD, onlyNew), SecretError);
    // Re-wrapping checks the secret: an altered one is not re-wrapped into a valid-looking one.
    assert.throws(
      () => rewrapSecret({ ...old, ciphertext: flip(old.ciphertext) }, AAD, rotated),
      SecretError,
    );
  });
});

describe('transport seal (gateway to connectors)', () => {
  const AAD_T = 'turnpike/connector/transport/v1|create|sim|';

  test('round trip; the public key is the same on every connector with the same master key', () => {
    const keys = new TransportKeys(ring1);
    const again = new TransportKeys(MasterKeyRing.parse(`k1:${b64(k1)}`));
    assert.deepEqual(keys.current(), again.current());
    assert.equal(Buffer.from(keys.current().publicKey, 'base64').length, 32);
    const sealed = sealToTransport(payload, AAD_T, keys.current());
    assert.ok(again.open(sealed, AAD_T).equals(payload));
    assert.ok(!JSON.stringify(sealed).includes('sk-test'));
  });

  test('another purpose or target, another master key, or altered bytes are refused', () => {
    const keys = new TransportKeys(ring1);
    const sealed = sealToTransport(payload, AAD_T, keys.current());
    assert.throws(() => keys.open(sealed, AAD_T.replace('create', 'rotate')), SecretError);
    assert.throws(() => keys.open(sealed, AAD_T.replace('|sim|', '|other|')), SecretError);
    assert.throws(
      () => keys.open({ ...sealed, ciphertext: flip(sealed.ciphertext) }, AAD_T),
      SecretError,
    );
    assert.throws(() => keys.open({ ...sealed, epk: flip(sealed.epk) }, AAD_T), SecretError);
    assert.throws(() => keys.open({ ...sealed, epk: b64(Buffer.alloc(32)) }, AAD_T), SecretError);
    const stranger = new TransportKeys(MasterKeyRing.parse(`k1:${b64(k2)}`));
    assert.throws(() => stranger.open(sealed, AAD_T), SecretError);
    assert.throws(() => keys.open({ ...sealed, keyId: 'nope' }, AAD_T), /not ours/);
  });

  test('after a master key rotation, payloads sealed to the old transport key still open', () => {
    const sealed = sealToTransport(payload, AAD_T, new TransportKeys(ring1).current());
    const rotated = new TransportKeys(MasterKeyRing.parse(`k2:${b64(k2)},k1:${b64(k1)}`));
    assert.equal(rotated.current().keyId, 'k2');
    assert.ok(rotated.open(sealed, AAD_T).equals(payload));
  });
});

describe('fingerprints', () => {
  test('same secret, same fingerprint; another secret or master key, another one', () => {
    const a = fingerprintSecret('sk-one-0123456789abcdef', ring1);
    assert.match(a, /^k1:[0-9a-f]{64}$/);
    assert.equal(a, fingerprintSecret('sk-one-0123456789abcdef', ring1));
    assert.notEqual(a, fingerprintSecret('sk-one-0123456789abcdeF', ring1));
    assert.notEqual(
      a,
      fingerprintSecret('sk-one-0123456789abcdef', MasterKeyRing.parse(`k1:${b64(k2)}`)),
    );
    assert.ok(!a.includes('0123456789abcdef'));
  });

  test('a fingerprint made under an older master key still matches after rotation', () => {
    const old = fingerprintSecret('sk-one-0123456789abcdef', ring1);
    const rotated = MasterKeyRing.parse(`k2:${b64(k2)},k1:${b64(k1)}`);
    assert.ok(fingerprintMatches(old, 'sk-one-0123456789abcdef', rotated));
    assert.ok(!fingerprintMatches(old, 'sk-two-0123456789abcdef', rotated));
    assert.ok(
      !fingerprintMatches(old, 'sk-one-0123456789abcdef', MasterKeyRing.parse(`k2:${b64(k2)}`)),
    );
  });
});

describe('record MACs', () => {
  test('canonical JSON: key order does not matter, values do', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }),
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
    const a = keyedMac('record', canonicalJson({ x: 1, y: 'u' }), ring1);
    assert.equal(a, keyedMac('record', canonicalJson({ y: 'u', x: 1 }), ring1));
    assert.ok(keyedMacMatches('record', a, canonicalJson({ y: 'u', x: 1 }), ring1));
    assert.ok(!keyedMacMatches('record', a, canonicalJson({ y: 'v', x: 1 }), ring1));
    // Another purpose's subkey: a fingerprint is not a record MAC of the same text.
    assert.notEqual(a, keyedMac('fingerprint', canonicalJson({ x: 1, y: 'u' }), ring1));
  });
});

describe('masking', () => {
  test('a known prefix and the last four characters; short secrets show nothing', () => {
    assert.equal(maskSecret('sk-proj-abcdefghijklmnopqrstuvwxyz'), 'sk-…wxyz');
    assert.equal(maskSecret('gsk_0123456789abcdefWXYZ'), 'gsk_…WXYZ');
    assert.equal(maskSecret('AKIAIOSFODNN7EXAMPLE'), 'AKIA…MPLE');
    assert.equal(maskSecret('0123456789abcdef0123'), '…0123');
    assert.equal(maskSecret('short-secret'), '…');
    assert.equal(maskSecret(''), '…');
    // At most 9 characters of the secret, whatever its length.
    for (const s of ['sk-' + 'x'.repeat(100), 'y'.repeat(40)])
      assert.ok(maskSecret(s).replace('…', '').length <= 8);
  });
});
