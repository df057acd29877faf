import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { CompletionStream } from './completion-stream.js';

/**
 * A real HTTP server and a client that sends its request and then never reads: the stream's
 * unsent bytes grow until the bound, then the gateway closes the stream.
 */
test('a client that stops reading: the stream is closed once its unsent bytes pass the bound', async (t) => {
  const MAX = 256 * 1024;
  let res!: ServerResponse;
  const server = createServer((_req, r) => {
    res = r;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  client.pause(); // never reads
  while (!res) await new Promise((r) => setImmediate(r));

  const stream = new CompletionStream(res, {}, MAX);
  const piece = { text: 'x'.repeat(4000) };
  let chunks = 0;
  let maxBuffered = 0;
  // The socket's buffers fill first (they drain into the client's kernel buffer), then the
  // response's own: write as a fast upstream would, yielding so the socket can flush.
  while (!stream.closed && chunks < 100_000) {
    stream.chunk(piece);
    chunks++;
    maxBuffered = Math.max(maxBuffered, res.writableLength);
    if (chunks % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  assert.equal(stream.tooSlow, true, `still open after ${chunks} chunks`);
  assert.ok(res.destroyed, 'the response was destroyed');
  // Never more than the bound plus the one chunk that crossed it.
  assert.ok(maxBuffered <= MAX + 4100, `${maxBuffered} bytes buffered`);
  console.log(`  closed after ${chunks} chunks of 4 KB; at most ${maxBuffered} bytes buffered`);
  // Later chunks are ignored, never written to a destroyed response.
  stream.chunk(piece);
  stream.done();
  client.destroy();
});

test('a client that reads: a long stream is never closed for slowness', async (t) => {
  const MAX = 64 * 1024;
  let res!: ServerResponse;
  const server = createServer((_req, r) => {
    res = r;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const got: Buffer[] = [];
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  client.on('data', (b: Buffer) => got.push(b));
  client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  while (!res) await new Promise((r) => setImmediate(r));
  const stream = new CompletionStream(res, {}, MAX);
  // 2 MB in all, 32 times the bound, written as fast as the client drains it.
  for (let i = 0; i < 500; i++) {
    stream.chunk({ text: 'y'.repeat(4000) });
    while (res.writableLength > MAX / 2) await new Promise((r) => setTimeout(r, 1));
  }
  stream.done();
  // Keep-alive: the connection stays open; the stream ends with its [DONE] (chunked encoding).
  while (!Buffer.concat(got).toString().includes('data: [DONE]\n\n')) await once(client, 'data');
  client.destroy();
  assert.equal(stream.tooSlow, false);
  assert.ok(Buffer.concat(got).length > 2_000_000);
});
