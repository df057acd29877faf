/**
 * The new-user flow, exactly as the README tells it: `npm run up` starts everything in the
 * background and prints the URL and a demo key (also written to local.env); the official
 * `openai` client works with them; running `up` again is harmless; `npm run down` stops all.
 * It runs the real CLI (`scripts/turnpike up`) with its state in a temporary directory, so it
 * never touches a developer's own `.turnpike/`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { isAlive, readState } from '@turnpike/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-up-'));
chmodSync(stateDir, 0o755);

function cli(cmd: 'up' | 'down'): { code: number; out: string } {
  const r = spawnSync('bash', ['scripts/turnpike', cmd], {
    cwd: root,
    env: { ...process.env, TURNPIKE_STATE_DIR: stateDir },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function localEnv(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path.join(stateDir, 'local.env'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

after(() => {
  cli('down');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm run up, then the openai client, then npm run down', () => {
  test('the whole new-user flow', async () => {
    const up = cli('up');
    assert.equal(up.code, 0, up.out);
    const env = localEnv();
    assert.match(env['TURNPIKE_URL'] ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(env['TURNPIKE_API_KEY'] ?? '', /^sk-tp-v1-/);
    assert.ok((env['TURNPIKE_ADMIN_TOKEN'] ?? '').length >= 16);
    assert.ok(
      up.out.includes(env['TURNPIKE_URL']!) && up.out.includes(env['TURNPIKE_API_KEY']!),
      'printed too',
    );

    const client = new OpenAI({
      baseURL: `${env['TURNPIKE_URL']}/v1`,
      apiKey: env['TURNPIKE_API_KEY'],
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: 'turnpike/sim-small',
      messages: [{ role: 'user', content: 'Hello from a new user' }],
    });
    assert.ok((completion.choices[0]?.message.content ?? '').length > 0);

    const stream = await client.chat.completions.create({
      model: 'turnpike/sim-small',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Stream to a new user [[sim tokens=8 tps=40]]' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.ok(text.length > 0);
    assert.equal(usage?.completion_tokens, 8);

    // `up` again while it runs: harmless, same URL and key, nothing restarted.
    const before = readState(stateDir)!;
    const again = cli('up');
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /already running/);
    assert.deepEqual(localEnv(), env);
    assert.deepEqual(
      readState(stateDir)!.services.map((s) => s.pid),
      before.services.map((s) => s.pid),
    );

    // `down` stops everything `up` started.
    const down = cli('down');
    assert.equal(down.code, 0, down.out);
    const pids = [
      before.kafka.pid,
      before.postgres.pid,
      ...before.simulators.map((s) => s.pid),
      ...before.services.map((s) => s.pid),
    ];
    const alive = pids.filter((p) => isAlive(p));
    assert.deepEqual(alive, [], 'no process is left behind');
  });
});
