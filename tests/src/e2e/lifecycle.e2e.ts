/**
 * SIGTERM drains: a service told to stop turns unready and closes its listener at once, lets its
 * in-flight generations finish, then exits; it is then started again as it was, for the suites that follow.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  expectedContent,
  isAlive,
  readState,
  restartService,
  waitForExit,
} from '@turnpike/testing';
import { ctx, eventually, marker, simRequests } from '../support/context.js';

const stateDir = () => path.dirname(process.env['TURNPIKE_TEST_CONTEXT']!);

/** Streams a ~2 s generation; calls `midway` after its first token; returns the full text. */
async function streamThrough(
  gatewayUrl: string,
  text: string,
  midway: () => void,
): Promise<string> {
  const client = new OpenAI({
    baseURL: `${gatewayUrl}/v1`,
    apiKey: ctx().tenants[0]!.key,
    maxRetries: 0,
  });
  const stream = await client.chat.completions.create({
    model: 'turnpike/sim-small',
    stream: true,
    messages: [{ role: 'user', content: `${text} [[sim tokens=20 tps=10]]` }],
  });
  let content = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta.content ?? '';
    if (delta && content === '') midway();
    content += delta;
  }
  return content;
}

async function readiness(url: string): Promise<number | 'down'> {
  try {
    return (await fetch(`${url}/health/ready`)).status;
  } catch {
    return 'down';
  }
}

describe('SIGTERM drains in-flight work', () => {
  test('a gateway replica finishes its open stream, unready meanwhile, then exits', async () => {
    const gateway = readState(stateDir())!.services.find((s) => s.name === 'gateway-2')!;
    const text = `drain gateway ${marker('dg')}`;
    const seen: Array<number | 'down'> = [];
    const content = await streamThrough(gateway.url, text, () => {
      process.kill(gateway.pid, 'SIGTERM');
      setTimeout(() => void readiness(gateway.url).then((s) => seen.push(s)), 300);
    });
    assert.equal(content, expectedContent(text, 20), 'the stream ran to its end');
    // Unready while draining: 503 on a connection it had already accepted, or no new connection
    // at all (the listener closes at SIGTERM).
    assert.equal(seen.length, 1);
    assert.ok(seen[0] === 503 || seen[0] === 'down', `unready while draining (${seen[0]})`);
    assert.ok(await waitForExit(gateway.pid, 15_000), 'then it exits');
    const back = await restartService(stateDir(), 'gateway-2');
    assert.ok(isAlive(back.pid));
    assert.equal(await readiness(back.url), 200);
  });

  test('the connector finishes its running generation after SIGTERM, then exits', async () => {
    const connector = readState(stateDir())!.services.find((s) => s.name === 'connector-1')!;
    const text = `drain connector ${marker('dc')}`;
    const content = await streamThrough(ctx().gatewayUrl, text, () =>
      process.kill(connector.pid, 'SIGTERM'),
    );
    assert.equal(content, expectedContent(text, 20), 'the generation was not cut');
    assert.ok(await waitForExit(connector.pid, 15_000), 'then it exits');
    const back = await restartService(stateDir(), 'connector-1');
    assert.equal(await readiness(back.url), 200);
    // And the platform serves again through the new instance.
    const again = await new OpenAI({
      baseURL: `${ctx().gatewayUrl}/v1`,
      apiKey: ctx().tenants[0]!.key,
      maxRetries: 0,
    }).chat.completions.create({
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: marker('after') }],
    });
    assert.ok(again.choices[0]?.message.content);
  });

  test('a draining connector still hears the cancel of its running generation', async () => {
    const connector = readState(stateDir())!.services.find((s) => s.name === 'connector-1')!;
    const text = `drain cancel ${marker('dx')}`;
    const controller = new AbortController();
    const client = new OpenAI({
      baseURL: `${ctx().gatewayUrl}/v1`,
      apiKey: ctx().tenants[0]!.key,
      maxRetries: 0,
    });
    // A 20 s generation, which only the client's cancel (or the request's deadline) stops.
    const stream = await client.chat.completions.create(
      {
        model: 'turnpike/sim-small',
        stream: true,
        messages: [{ role: 'user', content: `${text} [[sim tokens=200 tps=10]]` }],
      },
      { signal: controller.signal },
    );
    let received = 0;
    try {
      for await (const chunk of stream) {
        if (!chunk.choices[0]?.delta.content) continue;
        received++;
        // SIGTERM first; the client leaves once the connector has left its group.
        if (received === 2) process.kill(connector.pid, 'SIGTERM');
        if (received === 12) controller.abort();
      }
    } catch {
      // The SDK may raise an abort error, or just end the iteration.
    }
    assert.equal(received, 12);
    const rec = await eventually(async () => {
      const [r] = await simRequests(text);
      return r && r.outcome !== 'in_progress' ? r : undefined;
    }, 'the simulator to record the end of the request');
    assert.equal(rec.outcome, 'aborted', 'the upstream call was cancelled during the drain');
    // Cancelled about a second after SIGTERM: well before the 7 s mark. Unheard, the cancel would
    // leave the generation to the request's deadline (10 s on the test platform: ~100 tokens).
    assert.ok(rec.tokensSent < 70, `stopped early (${rec.tokensSent} of 200 tokens)`);
    assert.ok(
      await waitForExit(connector.pid, 15_000),
      'and the connector exits, long before 20 s',
    );
    const back = await restartService(stateDir(), 'connector-1');
    assert.equal(await readiness(back.url), 200);
  });
});
