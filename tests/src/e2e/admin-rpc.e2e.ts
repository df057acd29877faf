/**
 * The gateway survives an admin RPC whose `producer.send` fails. A bulk catalog document of 200
 * models with 8 KiB descriptions (~1.6 MB) passes the gateway's 4 MiB body limit and its
 * validation, but its RPC message is larger than `rpc.router.v1` accepts (the broker default,
 * ~1 MiB, in TOPIC_SPECS), so the producer refuses it (MessageTooLargeError) inside
 * `RpcClient.call`, after the reply promise and its 10 s timer exist. That is the path that used to leave the reply's timeout rejection
 * unhandled and kill the gateway ~10 s later. The client must get a prompt 413 in OpenAI's
 * shape; past the RPC timeout the same gateway process must still answer, be ready, and have
 * logged no unhandled rejection (services log those instead of dying, so the log is where a
 * regression shows).
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isAlive, readState } from '@turnpike/testing';
import { ctx } from '../support/context.js';

/** RpcClient's default timeout (libs/kafka/src/rpc.ts), which the admin routes use. */
const RPC_TIMEOUT_MS = 10_000;
const stateDir = () => path.dirname(process.env['TURNPIKE_TEST_CONTEXT']!);

describe('a failed admin RPC send', () => {
  test('a prompt 413 in OpenAI shape; the same gateway still answers past the RPC timeout', async () => {
    const gw = ctx().services.find((s) => s.url === ctx().gatewayUrl)!;
    assert.ok(gw, 'the first gateway is in the context');
    const running = readState(stateDir())!.services.find((s) => s.url === gw.url)!;
    assert.equal(running.pid, gw.pid, 'the gateway the run started is the one running');
    const logFrom = statSync(running.logFile).size;
    const admin = { authorization: `Bearer ${ctx().adminToken}` };

    const description = 'x'.repeat(8 * 1024);
    const models = Array.from({ length: 200 }, (_, i) => ({
      id: i === 0 ? 'turnpike/rpc-too-large' : `turnpike/rpc-too-large-${i}`,
      name: 'Too large',
      context_length: 8192,
      description,
    }));
    const started = performance.now();
    const res = await fetch(`${gw.url}/admin/catalog/bulk`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ models }),
    });
    const body = (await res.json()) as { error: Record<string, unknown> };
    const elapsed = performance.now() - started;
    assert.equal(res.status, 413, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error['type'], 'invalid_request_error');
    assert.equal(body.error['code'], 'request_too_large');
    assert.equal(body.error['param'], null);
    assert.match(String(body.error['message']), /too large to pass to router/);
    // Refused before anything is sent: not an answer that waited for the RPC timeout.
    assert.ok(elapsed < RPC_TIMEOUT_MS / 2, `answered in ${elapsed.toFixed(0)} ms`);

    // Past the reply's own timeout, when the unhandled rejection used to fire.
    await new Promise((r) => setTimeout(r, RPC_TIMEOUT_MS + 2_500));
    assert.ok(isAlive(gw.pid), `gateway pid ${gw.pid} is alive`);
    assert.equal(readState(stateDir())!.services.find((s) => s.url === gw.url)!.pid, gw.pid);
    const ready = await fetch(`${gw.url}/health/ready`);
    assert.equal(ready.status, 200, await ready.text());
    // RPC still works through the same process, and the refused upsert never reached the router.
    const known = await fetch(`${gw.url}/admin/catalog/models/turnpike/sim-small`, {
      headers: admin,
    });
    assert.equal(known.status, 200, await known.text());
    const refused = await fetch(`${gw.url}/admin/catalog/models/turnpike/rpc-too-large`, {
      headers: admin,
    });
    assert.equal(refused.status, 404, await refused.text());

    const log = readFileSync(running.logFile).subarray(logFrom).toString();
    assert.match(log, /router\.catalog\.bulk not sent: .*exceeds rpc\.router\.v1/);
    assert.doesNotMatch(log, /unhandled promise rejection/);
  });
});
