import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { UsageEventV1 } from '@turnpike/contracts';
import { UsageSpool } from './usage-spool.js';

const event = (id: string): UsageEventV1 => ({ generationId: id, tenantId: 't' }) as UsageEventV1;
const ids = (es: UsageEventV1[]) => es.map((e) => e.generationId).sort();
const root = () => mkdtempSync(path.join(os.tmpdir(), 'spool-spec-'));
const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

test('what was appended and not acknowledged is there for the next process; acknowledged is gone', async () => {
  const r = root();
  const { spool, pending } = UsageSpool.open(r, 'gw-1');
  assert.deepEqual(pending, []);
  await Promise.all(['a', 'b', 'c'].map((id) => spool.append(event(id))));
  spool.ack('b');
  // Appending one already there writes nothing.
  await spool.append(event('a'));
  assert.equal(spool.size, 2);
  // No close(): as after a crash.
  const next = UsageSpool.open(r, 'gw-1');
  assert.deepEqual(ids(next.pending), ['a', 'c']);
  assert.equal(next.skippedLines, 0);
  next.spool.ack('a');
  next.spool.ack('c');
  next.spool.close();
  assert.deepEqual(UsageSpool.open(r, 'gw-1').pending, []);
});

test('a segment whose events were all acknowledged is deleted once a newer one is written', async () => {
  const r = root();
  const { spool } = UsageSpool.open(r, 'gw', { maxSegmentEvents: 2 });
  for (const id of ['1', '2', '3', '4', '5']) await spool.append(event(id));
  assert.equal(files(spool.dir).length, 3);
  for (const id of ['1', '2', '3', '4']) spool.ack(id);
  // The first two segments are done; the third (current) still holds '5'.
  assert.equal(files(spool.dir).length, 1);
  spool.ack('5');
  spool.close();
  assert.equal(files(spool.dir).length, 0);
});

test('a torn last line (a crash mid-write) is skipped, the lines before it kept', async () => {
  const r = root();
  const { spool } = UsageSpool.open(r, 'gw');
  await spool.append(event('whole'));
  const [f] = files(spool.dir);
  appendFileSync(path.join(spool.dir, f!), '{"generationId":"torn","ten');
  const next = UsageSpool.open(r, 'gw');
  assert.deepEqual(ids(next.pending), ['whole']);
  assert.equal(next.skippedLines, 1);
});

test("a dead process's spool on this host is adopted; a live one's is left alone", async () => {
  const r = root();
  // A process that has exited: its pid is free.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    .stdout.toString()
    .trim();
  const deadDir = path.join(r, 'gw-random-1');
  mkdirSync(deadDir);
  writeFileSync(path.join(deadDir, 'lock'), `${os.hostname()} ${dead}\n`);
  writeFileSync(path.join(deadDir, 'usage-1-000000.jsonl'), `${JSON.stringify(event('orphan'))}\n`);
  // A live process (this one) holds another.
  const liveDir = path.join(r, 'gw-live');
  mkdirSync(liveDir);
  writeFileSync(path.join(liveDir, 'lock'), `${os.hostname()} ${process.pid}\n`);
  writeFileSync(path.join(liveDir, 'usage-1-000000.jsonl'), `${JSON.stringify(event('live'))}\n`);
  // Another host's (a shared volume).
  const otherDir = path.join(r, 'gw-other');
  mkdirSync(otherDir);
  writeFileSync(path.join(otherDir, 'lock'), `another-host-${os.hostname()} ${dead}\n`);
  writeFileSync(path.join(otherDir, 'usage-1-000000.jsonl'), `${JSON.stringify(event('other'))}\n`);

  const { pending, spool } = UsageSpool.open(r, 'gw-random-2');
  assert.deepEqual(ids(pending), ['orphan']);
  assert.deepEqual(readdirSync(r).sort(), ['gw-live', 'gw-other', 'gw-random-2']);
  spool.ack('orphan');
  assert.deepEqual(files(spool.dir), []);
});

test('readPending reads back what is not in memory, up to a limit', async () => {
  const r = root();
  const { spool } = UsageSpool.open(r, 'gw', { maxSegmentEvents: 3 });
  for (let i = 0; i < 10; i++) await spool.append(event(`e${i}`));
  spool.ack('e4');
  const back = spool.readPending(new Set(['e0', 'e1']), 5);
  assert.deepEqual(
    back.map((e) => e.generationId),
    ['e2', 'e3', 'e5', 'e6', 'e7'],
  );
});

test('a dead spool adopted by one gateway is not adopted again by the next', async () => {
  const r = root();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    .stdout.toString()
    .trim();
  const deadDir = path.join(r, 'gw-old');
  mkdirSync(deadDir);
  writeFileSync(path.join(deadDir, 'lock'), `${os.hostname()} ${dead}\n`);
  for (let i = 0; i < 20; i++)
    writeFileSync(
      path.join(deadDir, `usage-1-${String(i).padStart(6, '0')}.jsonl`),
      `${JSON.stringify(event(`e${i}`))}\n`,
    );
  // The first takes every segment; the second finds the spool gone and opens its own, empty.
  // (Two starting at the same instant race for the files: a file the other took is skipped.)
  const a = UsageSpool.open(r, 'gw-a');
  const b = UsageSpool.open(r, 'gw-b');
  assert.equal(a.pending.length + b.pending.length, 20);
  assert.deepEqual(b.pending, []);
  assert.ok(!readdirSync(r).includes('gw-old'));
});
