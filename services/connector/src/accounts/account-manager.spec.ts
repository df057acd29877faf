import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ProviderAccountV1, type ProviderCredentials } from '@turnpike/contracts';
import { RpcFailure } from '@turnpike/kafka';
import { MasterKeyRing } from '@turnpike/secrets';
import { AccountBook } from '@turnpike/generation';
import { AccountManager, BOOTSTRAP_LABEL } from './account-manager.js';
import { openPayload } from '@turnpike/generation';
import { MemoryAccountStore } from './memory-account.store.js';

const b64 = (n = 32) => randomBytes(n).toString('base64');
const K1 = b64();
const ring = MasterKeyRing.parse(`m1:${K1}`);
const key = (label: string) => `sk-${label}-${randomBytes(12).toString('hex')}`;
const apiKey = (k: string): ProviderCredentials => ({ type: 'api_key', apiKey: k });
const provider = { id: 'acme', kind: 'openai' };

/** A manager over a store, with a log of what it published (a topic) and a view fed from it. */
function harness(store = new MemoryAccountStore(), keys: MasterKeyRing | null = ring) {
  const published: Array<{ id: string; record: ProviderAccountV1 | null }> = [];
  const book = new AccountBook(keys);
  let failPublish = false;
  const manager = new AccountManager(store, keys, async (id, record) => {
    if (failPublish) throw new Error('broker unreachable');
    // What goes on the topic must be a valid record of its schema.
    if (record) ProviderAccountV1.parse(record);
    published.push({ id, record });
    book.apply(id, record);
  });
  return {
    store,
    manager,
    published,
    book,
    breakBroker: (v: boolean) => (failPublish = v),
  };
}

const rpcStatus = async (p: Promise<unknown>): Promise<[number, string | null]> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RpcFailure, String(e));
    return [e.error.status, e.error.code];
  }
  assert.fail('expected a failure');
};

describe('AccountManager: create', () => {
  test('stores and publishes only ciphertext; the view decrypts it; masked hint, fingerprint', async () => {
    const h = harness();
    const secret = key('create');
    const row = await h.manager.create({
      provider,
      label: 'primary',
      payload: {
        credentials: apiKey(secret),
        headers: { 'openai-organization': 'org-Zq81Xy0123456789' },
      },
    });
    assert.equal(row.baseUrl, 'https://api.openai.com/v1', "the adapter's default base URL");
    assert.equal(row.hint, `sk-…${secret.slice(-4)}`);
    assert.match(row.fingerprint, /^m1:[0-9a-f]{64}$/);
    assert.deepEqual(row.headerNames, ['openai-organization']);
    for (const text of [JSON.stringify(await h.store.list()), JSON.stringify(h.published)]) {
      assert.ok(!text.includes(secret), 'the key in clear');
      assert.ok(!text.includes(secret.slice(3, 20)));
      assert.ok(!text.includes('org-Zq81Xy0123456789'), 'a header value in clear');
    }
    const live = h.book.get(row.id)!;
    assert.equal(live.unusable, null);
    assert.deepEqual(live.connection, {
      baseUrl: row.baseUrl,
      credentials: apiKey(secret),
      headers: { 'openai-organization': 'org-Zq81Xy0123456789' },
    });
  });

  test('the same secret twice for one provider is refused (409); for another provider it is fine', async () => {
    const h = harness();
    const secret = key('dup');
    const first = await h.manager.create({
      provider,
      payload: { credentials: apiKey(secret), headers: {} },
    });
    assert.deepEqual(
      await rpcStatus(
        h.manager.create({ provider, payload: { credentials: apiKey(secret), headers: {} } }),
      ),
      [409, 'duplicate_account'],
    );
    await h.manager.create({
      provider: { id: 'other', kind: 'openai' },
      payload: { credentials: apiKey(secret), headers: {} },
    });
    assert.equal((await h.store.list('acme')).length, 1);
    assert.equal((await h.store.list('acme'))[0]!.id, first.id);
  });

  test("credentials the provider's kind does not take, or an unknown kind: 400", async () => {
    const h = harness();
    const aws: ProviderCredentials = {
      type: 'aws',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      region: 'us-east-1',
    };
    assert.deepEqual(
      await rpcStatus(h.manager.create({ provider, payload: { credentials: aws, headers: {} } })),
      [400, 'invalid_credential_type'],
    );
    assert.deepEqual(
      await rpcStatus(
        h.manager.create({
          provider: { id: 'x', kind: 'nope' },
          payload: { credentials: apiKey(key('k')), headers: {} },
        }),
      ),
      [400, 'unknown_provider_kind'],
    );
    assert.equal((await h.store.list()).length, 0);
  });

  test('a publication that fails rolls the write back', async () => {
    const h = harness();
    h.breakBroker(true);
    await assert.rejects(
      h.manager.create({ provider, payload: { credentials: apiKey(key('x')), headers: {} } }),
      /broker unreachable/,
    );
    assert.equal((await h.store.list()).length, 0);
  });

  test('without a master key nothing can be stored (503)', async () => {
    const h = harness(new MemoryAccountStore(), null);
    assert.deepEqual(
      await rpcStatus(
        h.manager.create({ provider, payload: { credentials: apiKey(key('x')), headers: {} } }),
      ),
      [503, 'master_key_missing'],
    );
  });
});

describe('AccountManager: rotate, update, status, delete', () => {
  test('rotation: a new secret version, hint and fingerprint; headers kept; the old ciphertext does not open as the new version', async () => {
    const h = harness();
    const old = key('old');
    const a = await h.manager.create({
      provider,
      payload: { credentials: apiKey(old), headers: { 'x-team': 'blue' } },
    });
    const next = key('new');
    const r = await h.manager.rotate('acme', a.id, apiKey(next));
    assert.equal(r.secretVersion, 2);
    assert.equal(r.revision, 2);
    assert.notEqual(r.fingerprint, a.fingerprint);
    assert.equal(r.hint, `sk-…${next.slice(-4)}`);
    assert.ok(r.rotatedAt >= a.rotatedAt);
    assert.deepEqual(openPayload(r, ring), {
      credentials: apiKey(next),
      headers: { 'x-team': 'blue' },
    });
    assert.throws(() => openPayload({ ...a, secretVersion: 2 }, ring), /authentication failed/);
    assert.deepEqual(h.book.get(a.id)!.connection!.credentials, apiKey(next));
    // Rotating to a key another account of the provider has is refused.
    const b = await h.manager.create({
      provider,
      payload: { credentials: apiKey(key('b')), headers: {} },
    });
    assert.deepEqual(await rpcStatus(h.manager.rotate('acme', b.id, apiKey(next))), [
      409,
      'duplicate_account',
    ]);
  });

  test('update: label, weight, base URL; new headers are re-sealed under a new secret version', async () => {
    const h = harness();
    const secret = key('u');
    const a = await h.manager.create({
      provider,
      payload: { credentials: apiKey(secret), headers: {} },
    });
    const u = await h.manager.update('acme', a.id, {
      label: 'eu',
      weight: 5,
      baseUrl: 'https://eu.example.test/v1',
    });
    assert.deepEqual(
      [u.label, u.weight, u.baseUrl, u.secretVersion],
      ['eu', 5, 'https://eu.example.test/v1', 1],
    );
    const hdr = await h.manager.update('acme', a.id, {
      headers: { 'openai-project': 'proj_abcdefghijklmnop' },
    });
    assert.equal(hdr.secretVersion, 2);
    assert.deepEqual(hdr.headerNames, ['openai-project']);
    assert.ok(!JSON.stringify(hdr).includes('proj_abcdefghijklmnop'));
    assert.deepEqual(openPayload(hdr, ring), {
      credentials: apiKey(secret),
      headers: { 'openai-project': 'proj_abcdefghijklmnop' },
    });
  });

  test('disable, enable, delete (a tombstone); unknown or foreign accounts are 404', async () => {
    const h = harness();
    const a = await h.manager.create({
      provider,
      payload: { credentials: apiKey(key('d')), headers: {} },
    });
    assert.equal((await h.manager.setStatus('acme', a.id, 'disabled')).status, 'disabled');
    assert.equal(h.book.usable('acme').length, 0);
    assert.equal((await h.manager.setStatus('acme', a.id, 'active')).status, 'active');
    assert.equal(h.book.usable('acme').length, 1);
    assert.deepEqual(await rpcStatus(h.manager.setStatus('other', a.id, 'disabled')), [
      404,
      'account_not_found',
    ]);
    await h.manager.delete('acme', a.id);
    assert.deepEqual(h.published.at(-1), { id: a.id, record: null });
    assert.equal(h.book.get(a.id), undefined);
    assert.deepEqual(await rpcStatus(h.manager.delete('acme', a.id)), [404, 'account_not_found']);
  });
});

describe('AccountManager: bootstrap from CONNECTOR_PROVIDERS', () => {
  const entries = (k1: string, k2: string) => ({
    acme: {
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      credentials: apiKey(k1),
      headers: {},
    },
    beta: {
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      credentials: apiKey(k2),
      headers: {},
    },
  });

  test('imports each entry once: again, or after a restart, nothing changes', async () => {
    const store = new MemoryAccountStore();
    const e = entries(key('a'), key('b'));
    const first = await harness(store).manager.bootstrap(e);
    assert.equal(first.imported.length, 2);
    assert.deepEqual(
      first.imported.map((a) => [a.providerId, a.label, a.owner]),
      [
        ['acme', BOOTSTRAP_LABEL, 'platform'],
        ['beta', BOOTSTRAP_LABEL, 'platform'],
      ],
    );
    const again = await harness(store).manager.bootstrap(e);
    assert.deepEqual([again.imported.length, again.present], [0, 2]);
    assert.equal((await store.list()).length, 2);
  });

  test('several connectors booting at once import each entry once', async () => {
    const store = new MemoryAccountStore();
    const e = entries(key('a'), key('b'));
    const results = await Promise.all([1, 2, 3, 4].map(() => harness(store).manager.bootstrap(e)));
    assert.equal(
      results.reduce((n, r) => n + r.imported.length, 0),
      2,
    );
    assert.equal((await store.list()).length, 2);
  });

  test('an account the operator changed is not overwritten; one the operator deleted stays deleted', async () => {
    const store = new MemoryAccountStore();
    const e = entries(key('a'), key('b'));
    const h = harness(store);
    const [acme, beta] = (await h.manager.bootstrap(e)).imported;
    await h.manager.update('acme', acme!.id, { label: 'renamed by the operator', weight: 3 });
    await h.manager.setStatus('acme', acme!.id, 'disabled');
    await h.manager.delete('beta', beta!.id);
    const after = await harness(store).manager.bootstrap(e);
    assert.equal(after.imported.length, 0);
    const rows = await store.list();
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0]!.label, rows[0]!.weight, rows[0]!.status],
      ['renamed by the operator', 3, 'disabled'],
    );
  });

  test('a secret the operator already added is not imported again; a new one in the file is', async () => {
    const store = new MemoryAccountStore();
    const h = harness(store);
    const k = key('a');
    await h.manager.create({
      provider,
      label: 'added by hand',
      payload: { credentials: apiKey(k), headers: {} },
    });
    const r = await h.manager.bootstrap({ acme: entries(k, key('b')).acme });
    assert.deepEqual([r.imported.length, r.present], [0, 1]);
    const r2 = await h.manager.bootstrap({ acme: entries(key('c'), key('b')).acme });
    assert.equal(r2.imported.length, 1);
    assert.equal((await store.list('acme')).length, 2);
  });
});

describe('AccountManager: reconcile and master key rotation', () => {
  test('a row the topic lacks is republished; a record the database lacks gets a tombstone', async () => {
    const h = harness();
    const a = await h.manager.create({
      provider,
      payload: { credentials: apiKey(key('a')), headers: {} },
    });
    const view = new Map(h.book.records());
    view.delete(a.id);
    const ghost = { ...a, id: 'acct_000000000000000000000000' };
    view.set(ghost.id, ghost);
    const r = await h.manager.reconcile(view);
    assert.deepEqual(r, { republished: 1, rewrapped: 0, removed: 1 });
    assert.deepEqual(h.published.at(-1), { id: ghost.id, record: null });
    // In sync: nothing to do.
    assert.deepEqual(await h.manager.reconcile(h.book.records()), {
      republished: 0,
      rewrapped: 0,
      removed: 0,
    });
  });

  test('a new master key in front: accounts are re-wrapped and re-fingerprinted; the old key can then go', async () => {
    const store = new MemoryAccountStore();
    const secret = key('rot');
    const h1 = harness(store);
    const a = await h1.manager.create({
      provider,
      payload: { credentials: apiKey(secret), headers: {} },
    });
    assert.equal(a.secret.masterKeyId, 'm1');

    const rotated = MasterKeyRing.parse(`m2:${b64()},m1:${K1}`);
    const h2 = harness(store, rotated);
    const r = await h2.manager.reconcile(h1.book.records());
    assert.deepEqual([r.rewrapped, r.republished], [1, 1]);
    const row = (await store.get(a.id))!;
    assert.equal(row.secret.masterKeyId, 'm2');
    assert.match(row.fingerprint, /^m2:/);
    assert.equal(row.revision, a.revision + 1);
    // Duplicate detection works across the rotation.
    assert.deepEqual(
      await rpcStatus(
        h2.manager.create({ provider, payload: { credentials: apiKey(secret), headers: {} } }),
      ),
      [409, 'duplicate_account'],
    );
    // A connector holding only the new key opens it.
    const onlyNew = new AccountBook(
      MasterKeyRing.parse(`m2:${rotated.get('m2')!.material.toString('base64')}`),
    );
    onlyNew.apply(row.id, row);
    assert.deepEqual(onlyNew.get(row.id)!.connection!.credentials, apiKey(secret));
  });
});
