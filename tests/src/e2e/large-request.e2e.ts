/**
 * A large request on the Kafka hop. The gateway accepts 4 MiB bodies; the broker's default
 * message limit is about 1 MB. The request topics take 8 MiB messages (TOPIC_SPECS), and the
 * producer caps its batches by bytes, so a 2 MB request travels, and it never takes down the
 * small messages produced beside it (other tenants' requests, reply chunks, usage events).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { expectedContent } from '@turnpike/testing';
import { client, ctx, eventually, marker } from '../support/context.js';

let db: pg.Client;
before(async () => {
  db = new pg.Client({ connectionString: ctx().databaseUrl });
  await db.connect();
});
after(async () => {
  await db.end();
});

async function storedStatus(generationId: string): Promise<string | undefined> {
  const r = await db.query<{ status: string }>(
    `SELECT event->>'status' AS status FROM billing.usage_events WHERE generation_id = $1`,
    [generationId],
  );
  return r.rows[0]?.status;
}

describe('a large request beside concurrent streams', () => {
  test('a 2 MB request is served, and 10 concurrent streams and every usage event go through', async () => {
    const streams = 10;
    const tokens = 20;
    const run = async (i: number) => {
      const text = `beside the big one ${i} ${marker('big')}`;
      const stream = await client(i % 2, { timeout: 60_000 }).chat.completions.create({
        model: 'turnpike/sim-small',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: `${text} [[sim tokens=${tokens} tps=20]]` }],
      });
      let content = '';
      let id = '';
      let completionTokens = 0;
      for await (const chunk of stream) {
        id = chunk.id;
        content += chunk.choices[0]?.delta.content ?? '';
        completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
      }
      return { id, ok: content === expectedContent(text, tokens), completionTokens };
    };
    // A vision-style request: the bulk is an inline image (base64), as large requests are.
    const image = Buffer.alloc(1_500_000, 7).toString('base64'); // 2,000,000 characters
    const big = async () => {
      const body = JSON.stringify({
        model: 'turnpike/sim-large',
        max_tokens: 5,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: `describe ${marker('image')} [[sim tokens=5]]` },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } },
            ],
          },
        ],
      });
      assert.ok(Buffer.byteLength(body) > 2_000_000, `${Buffer.byteLength(body)} bytes`);
      const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ctx().tenants[0]!.key}`,
          'content-type': 'application/json',
        },
        body,
      });
      return {
        status: res.status,
        id: res.headers.get('x-generation-id') ?? '',
        body: (await res.json()) as Record<string, unknown>,
      };
    };
    const [large, ...results] = await Promise.all([
      big(),
      ...Array.from({ length: streams }, (_, i) => run(i)),
    ]);

    assert.equal(large.status, 200, JSON.stringify(large.body).slice(0, 500));
    assert.equal(large.body['object'], 'chat.completion');
    for (const [i, r] of results.entries()) {
      assert.ok(r.ok, `stream ${i} (${r.id}) arrived whole`);
      assert.equal(r.completionTokens, tokens, `stream ${i} reported its usage`);
    }
    // Every generation's usage event, the big one's too, reached billing.
    for (const id of [large.id, ...results.map((r) => r.id)]) {
      const status = await eventually(() => storedStatus(id), `the usage event of ${id}`, 20_000);
      assert.equal(status, 'success', id);
    }
  });
});
