import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startSimulator } from '../registry.js';
import { readModelsFile } from './models-file.js';

const file = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'sim-models-')), 'models.json');
  writeFileSync(path, content);
  return path;
};

test('a models file lists ids (Bedrock-style ones with ":" too) and optional context lengths', () => {
  const path = file(
    JSON.stringify([
      { id: 'anthropic.claude-3-5-sonnet-20241022-v2:0', contextLength: 200000 },
      { id: 'accounts/fireworks/models/gpt-oss-120b' },
    ]),
  );
  assert.deepEqual(readModelsFile(path), [
    { id: 'anthropic.claude-3-5-sonnet-20241022-v2:0', contextLength: 200000 },
    { id: 'accounts/fireworks/models/gpt-oss-120b' },
  ]);
});

test('a bad models file is refused with a message naming it', () => {
  assert.throws(() => readModelsFile(file('{"id": "x"}')), /not a JSON array/);
  assert.throws(() => readModelsFile(file('[{"contextLength": 5}]')), /entry 0 has no id/);
  assert.throws(
    () => readModelsFile(file('[{"id": "a", "contextLength": -1}]')),
    /invalid contextLength/,
  );
  assert.throws(() => readModelsFile('/nonexistent/models.json'), /cannot read --models-file/);
});

test('the simulator serves the models of the file, and only them', async () => {
  const models = readModelsFile(file(JSON.stringify([{ id: 'meta-llama/Llama-3.3-70B' }])));
  const sim = await startSimulator('openai', { apiKey: 'sk-m', models });
  try {
    const client = new OpenAI({ baseURL: sim.url, apiKey: 'sk-m', maxRetries: 0 });
    const ok = await client.chat.completions.create({
      model: 'meta-llama/Llama-3.3-70B',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(ok.model, 'meta-llama/Llama-3.3-70B');
    await assert.rejects(
      client.chat.completions.create({
        model: 'sim-gpt-small',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (e: unknown) => e instanceof OpenAI.NotFoundError,
    );
  } finally {
    await sim.close();
  }
});
