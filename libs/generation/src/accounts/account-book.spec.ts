import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ProviderAccountV1 } from '@turnpike/contracts';
import { MasterKeyRing } from '@turnpike/secrets';
import { AccountBook } from './account-book.js';
import { sealPayload, signAccount } from './account-sealing.js';

const ring = MasterKeyRing.parse(`m:${randomBytes(32).toString('base64')}`);
const SECRET = 'sk-book-0123456789abcdefXYZW';

function rec(over: Partial<ProviderAccountV1> = {}, apiKey = SECRET): ProviderAccountV1 {
  const id = over.id ?? 'acct_aaaaaaaaaaaaaaaaaaaaaaaa';
  const version = over.secretVersion ?? 1;
  return signAccount(
    {
      v: 1,
      id,
      providerId: 'p',
      kind: 'openai',
      owner: 'platform',
      label: '',
      baseUrl: 'http://127.0.0.1:9/v1',
      credentialType: 'api_key',
      status: 'active',
      weight: 1,
      secretVersion: version,
      revision: 1,
      secret: sealPayload(
        { credentials: { type: 'api_key', apiKey }, headers: {} },
        id,
        version,
        ring,
      ),
      hint: 'sk-…XYZW',
      fingerprint: `m:${'0'.repeat(64)}`,
      headerNames: [],
      createdAt: 1,
      updatedAt: 1,
      rotatedAt: 1,
      ...over,
    },
    ring,
  );
}

/** A record as a connector with the master key writes it (its MAC over the other fields). */
const sign = (r: ProviderAccountV1) => signAccount(r, ring);

describe('AccountBook', () => {
  test('an account whose secret does not open is kept but unusable, with a reason naming no secret', () => {
    const warnings: string[] = [];
    const book = new AccountBook(ring, undefined, {
      warn: (m) => warnings.push(m),
      log: () => undefined,
    });
    const good = rec();
    const b = Buffer.from(good.secret.ciphertext, 'base64');
    b[0] = b[0]! ^ 1;
    book.apply(
      good.id,
      sign({ ...good, secret: { ...good.secret, ciphertext: b.toString('base64') } }),
    );
    const a = book.get(good.id)!;
    assert.equal(a.connection, null);
    assert.match(a.unusable!, /authentication failed/);
    assert.equal(book.usable('p').length, 0);
    assert.deepEqual(book.acquire('p'), {
      ok: false,
      reason: 'none',
      tried: 0,
      why: `no usable account (${a.unusable})`,
    });
    assert.equal(warnings.length, 1);
    assert.ok(!warnings[0]!.includes(SECRET.slice(3, 12)));
    // Another master key (a connector without the right key): unusable too.
    const stranger = new AccountBook(
      MasterKeyRing.parse(`m:${randomBytes(32).toString('base64')}`),
    );
    stranger.apply(good.id, good);
    assert.equal(stranger.usable('p').length, 0);
    // No master key at all.
    const none = new AccountBook(null);
    none.apply(good.id, good);
    assert.equal(none.get(good.id)!.unusable, 'no master key configured');
  });

  test('a record altered on the topic (not signed with the master key) is not applied', () => {
    const warnings: string[] = [];
    const book = new AccountBook(ring, undefined, {
      warn: (m) => warnings.push(m),
      log: () => undefined,
    });
    const r = rec();
    book.apply(r.id, r);
    // Another base URL (where the connector would send the secret), a newer revision: refused.
    book.apply(r.id, { ...r, revision: 9, baseUrl: 'https://attacker.example/v1' });
    assert.equal(book.get(r.id)!.record.baseUrl, 'http://127.0.0.1:9/v1');
    book.apply(r.id, { ...r, revision: 9, status: 'disabled' });
    assert.equal(book.get(r.id)!.record.status, 'active');
    // A new account nobody signed is not applied at all; one signed with another key neither.
    const other = rec({ id: 'acct_bbbbbbbbbbbbbbbbbbbbbbbb' });
    book.apply(other.id, { ...other, mac: `m:${'f'.repeat(64)}` });
    assert.equal(book.get(other.id), undefined);
    const stranger = MasterKeyRing.parse(`m:${randomBytes(32).toString('base64')}`);
    book.apply(other.id, signAccount(other, stranger));
    assert.equal(book.get(other.id), undefined);
    assert.equal(warnings.length, 4);
    assert.match(warnings[0]!, /fails authentication/);
  });

  test('records apply in revision order; a stale one is ignored; a tombstone removes', () => {
    const book = new AccountBook(ring);
    const r2 = rec({ revision: 2, weight: 7 });
    book.apply(r2.id, r2);
    book.apply(r2.id, rec({ revision: 1, weight: 1 }));
    assert.equal(book.get(r2.id)!.record.weight, 7);
    book.apply(r2.id, null);
    assert.equal(book.get(r2.id), undefined);
    assert.equal(book.size, 0);
  });

  test('usage state survives a weight change, not a new secret version', () => {
    const book = new AccountBook(ring);
    const r = rec();
    book.apply(r.id, r);
    const got = book.acquire('p');
    assert.ok(got.ok);
    got.lease.end({ kind: 'success' });
    book.apply(r.id, sign({ ...r, revision: 2, weight: 3 }));
    assert.equal(book.get(r.id)!.state.successes, 1);
    book.apply(r.id, rec({ revision: 3, secretVersion: 2 }, 'sk-book-rotated-0123456789ab'));
    assert.equal(book.get(r.id)!.state.successes, 0);
    assert.equal(book.get(r.id)!.connection!.credentials.type, 'api_key');
  });

  test("presence: accounts, active, usable for the provider's kind", () => {
    const book = new AccountBook(ring);
    book.apply('acct_000000000000000000000001', rec({ id: 'acct_000000000000000000000001' }));
    book.apply(
      'acct_000000000000000000000002',
      rec({ id: 'acct_000000000000000000000002', status: 'disabled' }),
    );
    book.apply(
      'acct_000000000000000000000003',
      rec({ id: 'acct_000000000000000000000003', kind: 'nope' }),
    );
    assert.deepEqual(book.presence({ id: 'p', kind: 'openai' }), {
      id: 'p',
      kind: 'openai',
      accounts: 3,
      active: 2,
      usable: 1,
      kind_mismatch: 1,
    });
    assert.equal(book.presence({ id: 'q', kind: 'openai' }).usable, 0);
    // A tenant's own account (BYOK) is never pooled for everyone.
    const byok = 'acct_000000000000000000000004';
    book.apply(byok, rec({ id: byok, owner: 'tenant:t1' }));
    assert.equal(book.presence({ id: 'p', kind: 'openai' }).usable, 1);
    assert.deepEqual(
      book.usable('p').map((a) => a.record.id),
      ['acct_000000000000000000000001'],
    );
    assert.equal(book.presence({ id: 'p', kind: 'other' }).usable, 0);
  });
});
