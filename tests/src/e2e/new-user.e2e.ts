/**
 * The new-user flow, exactly as the README tells it: `npm run up` starts everything in the
 * background and prints the URL and a demo key (also written to local.env, as `export` lines
 * that `source` hands to child processes); the official `openai` client works with them; the
 * demo upstream streams at a realistic pace; every file that holds a secret is owner-only;
 * `npm run status` answers from the state file (no rebuild) and shows Kafka and Postgres too;
 * `GET /v1/models` lists the whole imported catalog that this build can serve offline (every
 * provider whose kind has an adapter and whose wire protocol a simulator), from many providers,
 * and a model of each simulated protocol answers through the gateway;
 * running `up` again is harmless; `npm run down` stops all.
 * Its configuration surface: a setting in `config.env` reaches the services that read it (a typo
 * stops `up` before anything starts), and `down` then `up` keeps the URL (ports chosen once),
 * the admin token, the demo key and the data.
 * It runs the real CLI (`scripts/turnpike up`) with its state in a temporary directory, so it
 * never touches a developer's own `.turnpike/`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { CatalogFile } from '@turnpike/contracts';
import { isAlive, pacingProblems, planLocalCatalog, readState } from '@turnpike/testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-up-'));
chmodSync(stateDir, 0o755);

function cli(cmd: 'up' | 'down' | 'status'): { code: number; out: string } {
  const r = spawnSync('bash', ['scripts/turnpike', cmd], {
    cwd: root,
    // Free ports (other runs share this machine): chosen by the first `up`, kept by the next.
    env: {
      ...process.env,
      TURNPIKE_STATE_DIR: stateDir,
      TURNPIKE_GATEWAY_PORT: '0',
      TURNPIKE_PORT_BASE: '0',
    },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const envFile = path.join(stateDir, 'local.env');

/** What `source local.env` gives a child process: the three variables, read by node itself. */
function localEnv(): Record<string, string> {
  const names = ['TURNPIKE_URL', 'TURNPIKE_API_KEY', 'TURNPIKE_ADMIN_TOKEN'];
  const r = spawnSync(
    'bash',
    [
      '-c',
      `source "$1" && exec node -e 'console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.env[n]]))))'`,
      'bash',
      envFile,
    ],
    // Nothing inherited that could hide a missing `export`.
    { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

const mode = (file: string) => statSync(file).mode & 0o777;

after(() => {
  cli('down');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm run up, then the openai client, then npm run down', () => {
  test('the whole new-user flow', async (t) => {
    const configFile = path.join(stateDir, 'config.env');
    writeFileSync(configFile, 'LOG_LEVLE=debug\n');
    const typo = cli('up');
    assert.equal(typo.code, 1, typo.out);
    assert.match(typo.out, /LOG_LEVLE: no such setting/);
    assert.equal(readState(stateDir), null, 'nothing started');
    writeFileSync(
      configFile,
      '# settings\nGATEWAY_MAX_ATTEMPTS=4\nexport OTEL_RESOURCE_ATTRIBUTES=deployment.environment=new-user\n',
    );

    const up = cli('up');
    assert.equal(up.code, 0, up.out);
    const lines = readFileSync(envFile, 'utf8').trim().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, /^export TURNPIKE_[A-Z_]+='[^']*'$/);
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
    // The demo upstream answers with text that reads like a reply, not an echo of the prompt.
    assert.match(completion.choices[0]?.message.content ?? '', /^Hello! This answer comes from /);

    // Secrets: the state file (admin token, database URL, provider keys), local.env, the
    // connector's master key, the logs;
    // the state directory cannot be listed or read by anyone else (Postgres' user may traverse it).
    const state = readState(stateDir)!;
    const spawnEnv = (name: string) => state.services.find((s) => s.name === name)!.spawn!.env;
    assert.equal(
      spawnEnv('gateway-1')['GATEWAY_MAX_ATTEMPTS'],
      '4',
      'config.env reaches the gateway',
    );
    assert.equal(spawnEnv('router-1')['GATEWAY_MAX_ATTEMPTS'], undefined, 'and only it');
    for (const s of state.services)
      assert.equal(s.spawn!.env['OTEL_RESOURCE_ATTRIBUTES'], 'deployment.environment=new-user');
    const masterKey = path.join(stateDir, 'connector-master.key');
    for (const file of [path.join(stateDir, 'state.json'), envFile, masterKey])
      assert.equal(mode(file).toString(8), '600', file);
    const dirMode = mode(stateDir);
    assert.equal(dirMode & 0o066, 0, `state dir mode ${dirMode.toString(8)}`);
    assert.equal(mode(path.join(stateDir, 'data', 'kafka')) & 0o077, 0, 'kafka data');
    const logs = path.join(stateDir, 'logs');
    for (const s of [...state.services, ...state.simulators])
      assert.equal(mode(s.logFile).toString(8), '600', s.logFile);
    for (const f of readdirSync(logs))
      assert.equal(mode(path.join(logs, f)) & 0o004, 0, `${f} is world-readable`);

    // The demo paces like a hosted model: a few hundred ms to the first token, then tens of
    // tokens a second, spread out as the simulator sent them.
    const sim = state.simulators[0]!;
    const health = (await (await fetch(`${sim.url}/__sim/health`)).json()) as {
      defaults: { ttftMs: number; tokensPerSecond: number; text?: string };
    };
    assert.equal(health.defaults.text, 'prose');
    assert.ok(health.defaults.ttftMs >= 200 && health.defaults.ttftMs <= 1000, 'TTFT');
    assert.ok(health.defaults.tokensPerSecond >= 10 && health.defaults.tokensPerSecond <= 100);
    const paced = 'A paced demo stream';
    const t0 = performance.now();
    const demo = await client.chat.completions.create({
      model: 'turnpike/sim-small',
      stream: true,
      max_tokens: 24,
      messages: [{ role: 'user', content: paced }],
    });
    const arrivals: number[] = [];
    for await (const chunk of demo)
      if (chunk.choices[0]?.delta.content) arrivals.push(performance.now());
    assert.equal(arrivals.length, 24);
    // A lower bound only: a busy machine can only make it later.
    assert.ok(
      arrivals[0]! - t0 >= health.defaults.ttftMs - 5,
      `first token after ${(arrivals[0]! - t0).toFixed(0)} ms`,
    );
    const records = (await (await fetch(`${sim.url}/__sim/requests`)).json()) as {
      data: Array<{ body: unknown; tokenTimes: number[] }>;
    };
    const record = records.data.find((r) => JSON.stringify(r.body).includes(paced))!;
    assert.deepEqual(pacingProblems(record.tokenTimes, arrivals), []);

    // The whole imported catalog, offline: every model this build can serve (its adapters and
    // simulators; more as they land) is listed, from many providers, each endpoint at its
    // provider's simulator, paced like the demo.
    const catalogFile = (name: string) =>
      CatalogFile.parse(
        JSON.parse(readFileSync(path.join(root, 'services/router/catalog', name), 'utf8')),
      );
    const plan = planLocalCatalog(catalogFile('imported.catalog.json'));
    const expected = [...catalogFile('default.catalog.json').models, ...plan.catalog.models]
      .map((m) => m.id)
      .sort();
    const t1 = performance.now();
    const listed = (await (await fetch(`${env['TURNPIKE_URL']}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
      total_count: number;
    };
    const listMs = performance.now() - t1;
    assert.deepEqual(listed.data.map((m) => m.id).sort(), expected);
    assert.equal(listed.total_count, expected.length);
    // Hundreds of real models (models.dev, and genai-prices for the models it lacks).
    assert.ok(listed.data.length >= 400, `${listed.data.length} models listed`);
    assert.ok(listMs < 1000, `GET /v1/models took ${listMs.toFixed(0)} ms`);
    // The admin list pages: every page fits an RPC reply, and following `links.next` visits
    // every model once.
    const adminPages: Array<{
      data: Array<{ id: string; endpoints: Array<{ provider: string; routable: boolean }> }>;
      links: { next: string | null };
      total_count: number;
    }> = [];
    for (let next: string | null = '/admin/catalog/models'; next !== null;) {
      const res = await fetch(`${env['TURNPIKE_URL']}${next}`, {
        headers: { authorization: `Bearer ${env['TURNPIKE_ADMIN_TOKEN']}` },
      });
      const text = await res.text();
      assert.equal(res.status, 200, text.slice(0, 500));
      assert.ok(
        Buffer.byteLength(text) < 1024 * 1024,
        `a page of ${Buffer.byteLength(text)} bytes`,
      );
      const page = JSON.parse(text) as (typeof adminPages)[number];
      adminPages.push(page);
      next = page.links.next;
      assert.ok(adminPages.length <= 100, 'paging ends');
    }
    const adminList = adminPages.flatMap((p) => p.data);
    assert.ok(adminPages.length >= 2, `${adminPages.length} admin pages`);
    assert.equal(new Set(adminList.map((m) => m.id)).size, adminList.length);
    assert.equal(adminList.length, adminPages[0]!.total_count);
    for (const id of expected)
      assert.ok(
        adminList.some((m) => m.id === id),
        id,
      );
    const routed = new Set(
      adminList.flatMap((m) => m.endpoints.filter((e) => e.routable).map((e) => e.provider)),
    );
    const planned = new Set(plan.catalog.providers.map((p) => p.id));
    for (const p of planned) assert.ok(routed.has(p), `provider ${p} is routed`);
    assert.ok(planned.size >= 15, `${planned.size} providers`);

    // Figures for the docs: `GET /v1/models` latency, the gateway's memory with the whole
    // catalog, and an operator's re-import of the whole file (unchanged, then every price
    // changed: every model republished), which also shows the file passes the admin API.
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 30; i++) {
      const t2 = performance.now();
      bytes = (await (await fetch(`${env['TURNPIKE_URL']}/v1/models`)).arrayBuffer()).byteLength;
      times.push(performance.now() - t2);
    }
    times.sort((a, b) => a - b);
    const pct = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    t.diagnostic(
      `GET /v1/models: ${listed.data.length} models, ${(bytes / 1024).toFixed(0)} kB, ` +
        `p50 ${pct(0.5).toFixed(1)} ms, p90 ${pct(0.9).toFixed(1)} ms (30 calls)`,
    );
    const gateway = state.services.find((x) => x.name.startsWith('gateway'));
    if (gateway) {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.pid}/status`, 'utf8'));
      t.diagnostic(`gateway RSS: ${rss ? (Number(rss[1]) / 1024).toFixed(0) : '?'} MB`);
    }
    const whole = catalogFile('imported.catalog.json');
    const reimport = async (doc: unknown, what: string) => {
      const t3 = performance.now();
      const r = await fetch(`${env['TURNPIKE_URL']}/admin/catalog/import`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${env['TURNPIKE_ADMIN_TOKEN']}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(doc),
      });
      const report = await r.text();
      assert.equal(r.status, 200, report.slice(0, 500));
      t.diagnostic(
        `POST /admin/catalog/import (${what}, ${whole.models.length} models): ` +
          `${(performance.now() - t3).toFixed(0)} ms: ${report}`,
      );
    };
    await reimport(whole, 'the whole file');
    const repriced = {
      ...whole,
      models: whole.models.map((m) => ({
        ...m,
        endpoints: m.endpoints.map((e) => ({
          ...e,
          pricing: { ...e.pricing, prompt: (Number(e.pricing.prompt) * 1.5).toFixed(6) },
        })),
      })),
    };
    await reimport(repriced, 'every prompt price changed');
    await reimport(whole, 'the prices back');

    for (const s of plan.simulators) {
      const upstream = state.simulators.find((x) => x.id === s.id);
      assert.ok(upstream, `simulator ${s.id} runs`);
      const h = (await (await fetch(`${upstream.url}/__sim/health`)).json()) as {
        defaults: { ttftMs: number; text?: string };
      };
      assert.equal(h.defaults.text, 'prose');
      assert.ok(h.defaults.ttftMs >= 200, 'paced like a hosted model');
      const providers = new Set(s.accounts.map((a) => a.provider));
      const model = plan.catalog.models.find((m) =>
        m.endpoints.some((e) => providers.has(e.provider)),
      )!;
      const answer = await client.chat.completions.create({
        model: model.id,
        max_tokens: 4,
        messages: [{ role: 'user', content: `Hello ${s.protocol}` }],
      });
      assert.ok(answer.choices[0]?.message.content, `${model.id} answers (${s.protocol} wire)`);
    }

    // `status` answers from the state file, without building, and names every process.
    const st = cli('status');
    assert.equal(st.code, 0, st.out);
    assert.doesNotMatch(st.out, /\[turnpike\] (building|installing)/);
    assert.match(st.out, /^running: gateway http:\/\/127\.0\.0\.1:\d+/);
    const row = (name: string, pid: number) =>
      new RegExp(`^\\s+${name}\\s+up\\s+pid ${pid}\\s+port \\d+`, 'm');
    assert.match(st.out, row('kafka', state.kafka.pid));
    assert.match(st.out, row('postgres', state.postgres.pid));
    for (const s of [...state.simulators, ...state.services])
      assert.match(st.out, row(s.name, s.pid));
    assert.ok(!st.out.includes(state.postgres.url), 'status does not print the database password');
    assert.ok(!st.out.includes(state.adminToken), 'nor the admin token');

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
    const stopped = cli('status');
    assert.equal(stopped.code, 1);
    assert.match(stopped.out, /not running/);
    assert.equal(mode(path.join(stateDir, 'state.json')).toString(8), '600', 'still, after down');

    // `up` after `down`: the same URL, admin token and demo key (still in the database: `up`
    // seeds a new one when the old one is refused), and the data of before.
    const upAgain = cli('up');
    assert.equal(upAgain.code, 0, upAgain.out);
    assert.deepEqual(localEnv(), env, 'same URL, key and admin token');
    // A new connection: the pool's sockets went to the gateway of before (EPIPE on reuse).
    const seen = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(
        `${env['TURNPIKE_URL']}/v1/generation?id=${completion.id}`,
        { headers: { authorization: `Bearer ${env['TURNPIKE_API_KEY']}` }, agent: false },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
    });
    assert.equal(seen.status, 200, `the generation of before is still there: ${seen.body}`);
    assert.equal((JSON.parse(seen.body) as { data: { id: string } }).data.id, completion.id);
    const downAgain = cli('down');
    assert.equal(downAgain.code, 0, downAgain.out);
  });
});
