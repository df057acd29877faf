/**
 * OpenRouter's `models` list without `model`: `{"models": [...], "messages": [...]}`. The first
 * model the catalog has serves it (unknown ones are passed over, never an upstream call), the
 * response's `model` names the model that served, and when none exists the 404 names every one.
 * Through the official `openai` client (which sends whatever body it is given) and
 * `@openrouter/sdk` (whose `ChatRequest` makes `model` optional beside `models`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { OpenRouter } from '@openrouter/sdk';
import { NotFoundResponseError } from '@openrouter/sdk/models/errors';
import { expectedContent } from '@turnpike/testing';
import { client, ctx, marker, simRequests } from '../support/context.js';

const UNKNOWN = 'turnpike/unknown-x';
const REAL = 'turnpike/sim-small';

/** A models-only body: the `openai` types require `model`, the wire does not. */
const modelsOnly = (models: string[], content: string) =>
  ({
    models,
    messages: [{ role: 'user', content }],
  }) as unknown as ChatCompletionCreateParamsNonStreaming;

/** Every simulator's requests whose body mentions `text`. */
async function upstreamCalls(text: string) {
  return (await Promise.all(ctx().simulators.map((_s, i) => simRequests(text, i)))).flat();
}

describe('models-only requests', () => {
  test('openai client: the first model that exists serves, and the response names it', async () => {
    const text = `models only ${marker('mo-openai')}`;
    const { data, response } = await client()
      .chat.completions.create(modelsOnly([UNKNOWN, REAL], `${text} [[sim tokens=5]]`))
      .withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.model, REAL);
    assert.equal((data as unknown as { provider: string }).provider, 'sim');
    assert.equal(data.choices[0]!.message.content, expectedContent(text, 5));
    assert.equal(data.usage?.completion_tokens, 5);
    const calls = await upstreamCalls(text);
    assert.equal(calls.length, 1, 'one upstream call, none for the unknown model');
    assert.equal(calls[0]!.model, 'sim-gpt-small');
  });

  test('openai client, streamed: every chunk names the serving model', async () => {
    const text = `models only stream ${marker('mo-stream')}`;
    const stream = await client().chat.completions.create({
      ...modelsOnly([UNKNOWN, 'turnpike/sim-alt', REAL], `${text} [[sim tokens=4]]`),
      stream: true,
    });
    let content = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.model, 'turnpike/sim-alt');
      content += chunk.choices[0]?.delta.content ?? '';
    }
    assert.ok(chunks >= 4);
    assert.equal(content, expectedContent(text, 4));
  });

  test('openai client: only unknown models is a 404 naming every one of them', async () => {
    const other = 'turnpike/unknown-y';
    const err = await client()
      .chat.completions.create(modelsOnly([UNKNOWN, other], `nothing ${marker('mo-none')}`))
      .then(
        () => assert.fail('expected a 404'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.param, 'models');
    assert.match(err.message, new RegExp(`'${UNKNOWN}'`));
    assert.match(err.message, new RegExp(`'${other}'`));
  });

  test('@openrouter/sdk: models without model, served and named; only unknown ones: typed 404', async () => {
    const sdk = new OpenRouter({
      apiKey: ctx().tenants[0]!.key,
      serverURL: `${ctx().gatewayUrl}/api/v1`,
    });
    const text = `models only sdk ${marker('mo-sdk')}`;
    const res = await sdk.chat.send({
      chatRequest: {
        models: [UNKNOWN, REAL],
        messages: [{ role: 'user', content: `${text} [[sim tokens=3]]` }],
      },
    });
    assert.ok(!(res instanceof ReadableStream));
    assert.equal(res.model, REAL);
    assert.equal(res.choices[0]!.message.content, expectedContent(text, 3));
    assert.equal(res.usage?.completionTokens, 3);

    const other = 'turnpike/unknown-z';
    const err = await sdk.chat
      .send({
        chatRequest: { models: [UNKNOWN, other], messages: [{ role: 'user', content: 'x' }] },
      })
      .then(
        () => assert.fail('expected a 404'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof NotFoundResponseError, String(err));
    assert.equal(err.error.code, 404);
    assert.equal(err.error.metadata?.['error_type'], 'model_not_found');
    assert.match(err.error.message, new RegExp(`'${UNKNOWN}'.*'${other}'`));
  });
});
