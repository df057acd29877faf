/**
 * A client that stops reading a stream does not grow the gateway's memory without bound: once
 * the bytes it left unread pass GATEWAY_STREAM_BUFFER_BYTES (beyond what the sockets hold) the
 * gateway closes the stream as if the client had left — the generation is cancelled upstream
 * and billed for what it produced — instead of buffering the whole answer.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { ctx, eventually, marker, storedUsageEvent, type SimRecord } from '../support/context.js';

let db: pg.Client;
before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
});
after(async () => {
  await db.end();
});

/** Every simulator's records whose body mentions `text`. */
async function recordsOf(text: string): Promise<SimRecord[]> {
  const all = await Promise.all(
    ctx().simulators.map(async (s) => {
      const { data } = (await (await fetch(`${s.url}/__sim/requests`)).json()) as {
        data: SimRecord[];
      };
      return data.filter((r) => JSON.stringify(r.body).includes(text));
    }),
  );
  return all.flat();
}

async function slowClientsCounter(gatewayUrl: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('turnpike_gateway_slow_client_streams_total'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('a client that stops reading: the gateway closes the stream and cancels the generation', async () => {
  const gatewayUrl = ctx().gatewayUrl;
  const url = new URL(gatewayUrl);
  const m = marker('slowclient');
  // 40,000 tokens of 100 characters at 2,000 a second: about 13 MB of events over 20 s. The
  // gateway's bound (1 MiB) plus the sockets' buffers (a few MB on loopback) is passed after a
  // third of it; without the bound the gateway would hold the whole answer for the client.
  const word = (i: number) => `w${i}`.padEnd(100, 'x');
  const prompt = `${m} ${Array.from({ length: 20 }, (_, i) => word(i)).join(' ')} [[sim tokens=40000 tps=2000]]`;
  const body = JSON.stringify({
    model: 'turnpike/sim-small',
    stream: true,
    max_tokens: 40_000,
    messages: [{ role: 'user', content: prompt }],
  });
  const before = await slowClientsCounter(gatewayUrl);

  const socket: Socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\n` +
      `authorization: Bearer ${ctx().tenants[0]!.key}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // Read the status line and headers, then stop reading.
  const [head] = (await once(socket, 'data')) as [Buffer];
  socket.pause();
  const headText = head.toString('latin1');
  assert.match(headText, /^HTTP\/1\.1 200/);
  const generationId = /x-generation-id: (\S+)/i.exec(headText)?.[1];
  assert.ok(generationId, headText.slice(0, 500));

  // The upstream is told to stop long before it would have finished (20 s).
  const started = Date.now();
  const [record] = await eventually(
    async () => {
      const rs = await recordsOf(m);
      return rs.length === 1 && rs[0]!.outcome !== 'in_progress' ? rs : undefined;
    },
    'the upstream request to end',
    40_000,
  );
  assert.equal(record!.outcome, 'aborted', `the upstream ${record!.outcome} its answer`);
  assert.ok(record!.tokensSent < 40_000, `${record!.tokensSent} tokens sent`);
  console.log(
    `  slow client: upstream cancelled after ${record!.tokensSent} of 40000 tokens (${Date.now() - started} ms after the headers)`,
  );
  assert.equal(await slowClientsCounter(gatewayUrl), before + 1);

  // What the client can still read is what the sockets held: no [DONE], far from the answer.
  socket.resume();
  const got: Buffer[] = [];
  socket.on('data', (b: Buffer) => got.push(b));
  await Promise.race([once(socket, 'close'), once(socket, 'error')]);
  const received = Buffer.concat(got).toString('utf8');
  assert.equal(received.includes('data: [DONE]'), false);

  // Billed for what was produced, as a client that left.
  const e = await storedUsageEvent(db, generationId);
  assert.equal(e.status, 'cancelled');
  // Each 100-character word the upstream sent counts as one token or more with our tokenizer.
  assert.ok(
    e.tokens.completion >= record!.tokensSent,
    `billed ${e.tokens.completion} completion tokens for ${record!.tokensSent} words produced`,
  );
  assert.ok(e.cost.chargedMicros > 0);
  console.log(`  billed ${e.tokens.completion} completion tokens, ${e.cost.chargedMicros} µ$`);
});
