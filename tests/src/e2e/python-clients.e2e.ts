/**
 * The official Python clients (PyPI `openai` and `openrouter`, pinned in
 * tests/python/requirements.txt) against the running platform: tests/python/clients.py runs
 * models list and retrieve("author/slug"), chat unary and streamed with include_usage, and the
 * OpenRouter SDK's models, endpoints, chat, generation, key, credits and typed errors. It fails
 * with the Python traceback when a client rejects a response or a value is wrong; its results
 * are then checked against the platform's own records.
 *
 * The venv is built once under the cache dir (see support/python.ts). If Python or PyPI is not
 * available the test FAILS saying so, unless TURNPIKE_SKIP_PYTHON=1 is set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { expectedContent, seedTenant } from '@turnpike/testing';
import { ctx, eventually, marker } from '../support/context.js';
import { PYTHON_DIR, PythonUnavailable, pythonClientsVenv, run } from '../support/python.js';

const SKIP = process.env['TURNPIKE_SKIP_PYTHON'] === '1';
const CREDITS = 3;

interface Seen {
  id: string;
  cost: number;
  prompt_tokens: number;
}

describe('official Python clients (PyPI openai, openrouter)', () => {
  test(
    'every call is accepted and carries the platform’s values',
    { skip: SKIP ? 'TURNPIKE_SKIP_PYTHON=1' : false },
    async () => {
      const started = Date.now();
      const python = await pythonClientsVenv();
      console.log(`  python venv ready in ${Date.now() - started} ms: ${python}`);

      const keyName = 'python-clients';
      const tenant = await seedTenant(
        ctx().gatewayUrl,
        ctx().adminToken,
        { id: `py-${Math.random().toString(36).slice(2, 8)}`, name: 'Python clients' },
        keyName,
        CREDITS,
      );
      const tokens = { oa_unary: 6, oa_stream: 5, or_unary: 4, or_stream: 3 };
      const cases = Object.fromEntries(
        Object.entries(tokens).map(([name, n]) => {
          const text = `python ${name} ${marker('py')}`;
          return [
            name,
            {
              prompt: `${text} [[sim tokens=${n}]]`,
              tokens: n,
              expected: expectedContent(text, n),
            },
          ];
        }),
      );
      const cfg = { url: ctx().gatewayUrl, key: tenant.key, cases };
      const r = await run(python, [path.join(PYTHON_DIR, 'clients.py'), JSON.stringify(cfg)], {
        timeoutMs: 120_000,
        env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      });
      process.stdout.write(r.stdout.replace(/^RESULT .*$/m, ''));
      if (r.code !== 0)
        assert.fail(`tests/python/clients.py exited with ${r.code}:\n${r.stderr || r.stdout}`);
      const line = /^RESULT (.*)$/m.exec(r.stdout)?.[1];
      assert.ok(line, 'the script printed its results');
      const seen = JSON.parse(line) as Record<string, Seen> & {
        versions: { openai: string; openrouter: string };
        key: { label: string; usage: number };
        credits: { total_credits: number; total_usage: number };
      };
      assert.deepEqual(seen.versions, { openai: '3.63.0', openrouter: '1.3.84' });
      assert.equal(seen.key.label, keyName);
      assert.equal(seen.credits.total_credits, CREDITS);

      // Every completion the Python clients made is the platform's, at the cost they were shown.
      for (const name of Object.keys(tokens)) {
        const s = seen[name]!;
        assert.match(s.id, /^gen-/, name);
        // Billing books usage asynchronously.
        const g = await eventually(async () => {
          const res = await fetch(`${ctx().gatewayUrl}/v1/generation?id=${s.id}`, {
            headers: { authorization: `Bearer ${tenant.key}` },
          });
          return res.ok && ((await res.json()) as { data: Record<string, unknown> }).data;
        }, `${name}: generation ${s.id} booked`);
        assert.equal(g['total_cost'], s.cost, name);
        assert.equal(g['tokens_prompt'], s.prompt_tokens, name);
        assert.equal(g['tokens_completion'], tokens[name as keyof typeof tokens], name);
        assert.equal(g['streamed'], name.endsWith('stream'), name);
      }
    },
  );

  test(
    'without a reachable package index the step fails, saying why and how to skip it',
    { skip: SKIP ? 'TURNPIKE_SKIP_PYTHON=1' : false },
    async () => {
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'turnpike-pycache-'));
      try {
        const err = await pythonClientsVenv({
          cacheDir,
          // Nothing listens on port 9: pip's connections are refused, as with no network.
          env: { ...process.env, PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_FIND_LINKS: '' },
        }).then(
          () => assert.fail('the venv was built without an index'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof PythonUnavailable, String(err));
        assert.match(err.message, /is PyPI reachable/);
        assert.match(err.message, /TURNPIKE_SKIP_PYTHON=1/);
        assert.deepEqual(
          readdirSync(path.join(cacheDir, 'python-clients')),
          [],
          'nothing half-built left',
        );
      } finally {
        rmSync(cacheDir, { recursive: true, force: true });
      }
    },
  );
});
