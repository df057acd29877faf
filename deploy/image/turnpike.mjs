#!/usr/bin/env node
/**
 * The image's entry point: one image, the process chosen by its first argument.
 *   gateway | router | connector | billing | analytics   a service
 *   migrate <service>                                    its migrations, then exit
 *   topics                                               create/update the topics, then exit
 *   simulator [--protocol p --port n ...]                an upstream simulator (the demo's)
 *   seed-demo                                            the demo tenant and key (docker compose)
 *   check-gateway                                        `helm test`: the gateway answers
 * Each runs in this process (no shell, no child): signals reach it directly.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = ['gateway', 'router', 'connector', 'billing', 'analytics'];
const [cmd, ...rest] = process.argv.slice(2);

/** Runs a module as if it were the entry point (its argv: [node, file, ...args]). */
async function run(file, args = []) {
  const abs = path.join(root, file);
  process.argv = [process.argv[0], abs, ...args];
  await import(pathToFileURL(abs).href);
}

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

async function call(url, token, method, p, body, headers = {}) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

/** The demo tenant, a key and $100 of credit, once: the key is kept in TURNPIKE_DEMO_DIR. */
async function seedDemo() {
  const url = env('TURNPIKE_URL');
  const token = env('TURNPIKE_ADMIN_TOKEN');
  const dir = env('TURNPIKE_DEMO_DIR', '/demo');
  const keyFile = path.join(dir, 'demo.env');
  if (existsSync(keyFile)) {
    const key = /TURNPIKE_API_KEY='([^']+)'/.exec(readFileSync(keyFile, 'utf8'))?.[1];
    const probe = key && (await call(url, key, 'POST', '/v1/chat/completions', {}));
    if (probe && probe.status !== 401) {
      console.log(readFileSync(keyFile, 'utf8'));
      return;
    }
  }
  const tenant = await call(url, token, 'POST', '/admin/tenants', {
    id: 'demo',
    name: 'Demo tenant',
  });
  if (tenant.status !== 201 && tenant.status !== 200 && tenant.status !== 409)
    throw new Error(`POST /admin/tenants: ${tenant.status} ${tenant.text}`);
  const key = await call(url, token, 'POST', '/admin/tenants/demo/keys', { name: 'demo' });
  if (key.status >= 300)
    throw new Error(`POST /admin/tenants/demo/keys: ${key.status} ${key.text}`);
  const grant = await call(
    url,
    token,
    'POST',
    '/admin/tenants/demo/credits',
    { kind: 'grant', amount: '100', note: 'seed' },
    { 'idempotency-key': 'seed-demo' },
  );
  if (grant.status >= 300) throw new Error(`credit grant: ${grant.status} ${grant.text}`);
  mkdirSync(dir, { recursive: true });
  const text = `export TURNPIKE_URL='${process.env.TURNPIKE_PUBLIC_URL ?? url}'\nexport TURNPIKE_API_KEY='${key.json.key}'\n`;
  writeFileSync(keyFile, text, { mode: 0o600 });
  console.log(text);
}

/** `helm test`: ready, lists models, and the admin API answers (through Kafka). */
async function checkGateway() {
  const url = env('TURNPIKE_URL');
  const token = env('TURNPIKE_ADMIN_TOKEN');
  const ready = await fetch(`${url}/health/ready`);
  if (ready.status !== 200) throw new Error(`/health/ready: ${ready.status} ${await ready.text()}`);
  const models = await (await fetch(`${url}/v1/models`)).json();
  if (!Array.isArray(models.data) || models.data.length === 0) throw new Error('no models listed');
  const admin = await call(url, token, 'GET', '/admin/catalog/models?limit=1');
  if (admin.status !== 200) throw new Error(`admin API: ${admin.status} ${admin.text}`);
  console.log(`gateway ok: ready, ${models.data.length} models, admin API answers`);
}

try {
  if (SERVICES.includes(cmd)) await run(`services/${cmd}/dist/main.js`, rest);
  else if (cmd === 'migrate' && SERVICES.includes(rest[0]))
    await run(`services/${rest[0]}/dist/migrate.js`);
  else if (cmd === 'topics') await run('libs/service-kit/dist/topics-job.js');
  else if (cmd === 'simulator') await run('libs/simulators/dist/main.js', rest);
  else if (cmd === 'seed-demo') await seedDemo();
  else if (cmd === 'check-gateway') await checkGateway();
  else {
    console.error(
      `usage: turnpike {${SERVICES.join('|')}|migrate <service>|topics|simulator ...|seed-demo|check-gateway}`,
    );
    process.exitCode = 2;
  }
} catch (e) {
  console.error(`turnpike ${cmd}: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
