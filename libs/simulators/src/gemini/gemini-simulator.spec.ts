/**
 * The Gemini simulator, checked with Google's official SDK (`@google/genai`, pinned): what the
 * SDK cannot parse is a bug in the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  ApiError,
  FunctionCallingConfigMode,
  GoogleGenAI,
  Type,
  type GenerateContentResponse,
} from '@google/genai';
import { expectedContent } from '../core/content.js';
import { REASONING_WORDS } from '../core/plan.js';
import { countTextTokens } from '../core/protocol.js';
import type { Simulator } from '../core/types.js';
import { startSimulator } from '../registry.js';

const KEY = 'AIza-sim-test-0123456789abcdef';
const MODEL = 'sim-gemini';
const PROMPT = 'alpha bravo charlie delta echo';

const sim$ = (knobs: string) => `${PROMPT} [[sim ${knobs}]]`;

const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {
    type: Type.OBJECT,
    properties: {
      city: { type: Type.STRING },
      unit: { type: Type.STRING, enum: ['c', 'f'] },
      days: { type: Type.INTEGER, minimum: 1 },
    },
    required: ['city', 'unit', 'days'],
  },
};
const TIME = {
  name: 'get_time',
  parametersJsonSchema: {
    type: 'object',
    properties: { zone: { type: 'string' } },
    required: ['zone'],
  },
};

async function collect(stream: AsyncGenerator<GenerateContentResponse>) {
  const chunks: GenerateContentResponse[] = [];
  const times: number[] = [];
  let error: unknown;
  try {
    for await (const c of stream) {
      chunks.push(c);
      times.push(performance.now());
    }
  } catch (e) {
    error = e;
  }
  return { chunks, times, error, text: chunks.map((c) => c.text ?? '').join('') };
}

function apiError(e: unknown, status: number): ApiError {
  assert.ok(e instanceof ApiError, `an ApiError, got ${String(e)}`);
  assert.equal(e.status, status);
  return e;
}

describe('Gemini simulator, through @google/genai', () => {
  let sim: Simulator;
  let ai: GoogleGenAI;
  before(async () => {
    sim = await startSimulator('gemini', {
      apiKey: KEY,
      models: [
        { id: MODEL, contextLength: 8192 },
        { id: 'sim-gemini-tiny', contextLength: 32 },
      ],
    });
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: sim.url } });
  });
  after(async () => sim.close());
  beforeEach(() => sim.reset());

  describe('generateContent', () => {
    it('answers with text, STOP, usage; the request as the simulator understood it', async () => {
      const r = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=5'),
        config: {
          systemInstruction: 'Be brief.',
          temperature: 0.2,
          stopSequences: ['ZZZ'],
          maxOutputTokens: 100,
        },
      });
      assert.equal(r.text, expectedContent(sim$('tokens=5'), 5));
      assert.equal(r.candidates?.[0]?.finishReason, 'STOP');
      assert.equal(r.candidates?.[0]?.index, 0);
      assert.equal(r.modelVersion, MODEL);
      assert.match(r.responseId ?? '', /^[A-Za-z0-9_-]{20,}$/);
      const prompt = countTextTokens(['Be brief.', sim$('tokens=5')]);
      assert.equal(r.usageMetadata?.promptTokenCount, prompt);
      assert.equal(r.usageMetadata?.candidatesTokenCount, 5);
      assert.equal(r.usageMetadata?.totalTokenCount, prompt + 5);
      const rec = sim.requests()[0]!;
      assert.equal(rec.outcome, 'completed');
      assert.equal(rec.model, MODEL);
      assert.equal(rec.parsed?.system, 'Be brief.');
      assert.deepEqual(rec.parsed?.stop, ['ZZZ']);
      assert.equal(rec.parsed?.maxTokens, 100);
      assert.equal(rec.headers['x-goog-api-key'], undefined, 'the key is never recorded');
    });

    it('maxOutputTokens clips the answer: MAX_TOKENS', async () => {
      const r = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=10'),
        config: { maxOutputTokens: 3 },
      });
      assert.equal(r.text, expectedContent(PROMPT, 3));
      assert.equal(r.candidates?.[0]?.finishReason, 'MAX_TOKENS');
      assert.equal(r.usageMetadata?.candidatesTokenCount, 3);
    });

    it('a conversation: user and model turns, images, in order', async () => {
      await ai.models.generateContent({
        model: MODEL,
        contents: [
          { role: 'user', parts: [{ text: 'first question' }] },
          { role: 'model', parts: [{ text: 'first answer' }] },
          {
            role: 'user',
            parts: [
              { text: sim$('tokens=2') },
              { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            ],
          },
        ],
      });
      const parsed = sim.requests()[0]!.parsed!;
      assert.deepEqual(parsed.messages, ['first question', 'first answer', sim$('tokens=2')]);
      assert.equal(parsed.imageCount, 1);
    });

    it('several candidates (candidateCount)', async () => {
      const r = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=3'),
        config: { candidateCount: 2 },
      });
      assert.deepEqual(
        r.candidates?.map((c) => [c.index, c.content?.parts?.[0]?.text]),
        [
          [0, expectedContent(PROMPT, 3, 0)],
          [1, expectedContent(PROMPT, 3, 1)],
        ],
      );
      assert.equal(r.usageMetadata?.candidatesTokenCount, 6);
    });

    it('a JSON schema (responseSchema, and responseJsonSchema) shapes the answer', async () => {
      const r = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=3'),
        config: {
          responseMimeType: 'application/json',
          responseSchema: {
            type: Type.OBJECT,
            properties: {
              title: { type: Type.STRING },
              rating: { type: Type.INTEGER },
              tags: { type: Type.ARRAY, items: { type: Type.STRING } },
            },
            required: ['title', 'rating', 'tags'],
          },
        },
      });
      const v = JSON.parse(r.text ?? '') as Record<string, unknown>;
      assert.equal(typeof v['title'], 'string');
      assert.equal(typeof v['rating'], 'number');
      assert.ok(Array.isArray(v['tags']));
      assert.equal(sim.requests()[0]!.parsed?.responseFormat, 'json_schema');
      const j = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=3'),
        config: {
          responseMimeType: 'application/json',
          responseJsonSchema: {
            type: 'object',
            properties: { ok: { type: 'boolean' } },
            required: ['ok'],
          },
        },
      });
      assert.deepEqual(JSON.parse(j.text ?? ''), { ok: true });
      const o = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=3'),
        config: { responseMimeType: 'application/json' },
      });
      assert.deepEqual(Object.keys(JSON.parse(o.text ?? '') as object), ['text']);
    });

    it('function calling: a named function (ANY), then parallel calls by knob', async () => {
      const r = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=3'),
        config: {
          tools: [{ functionDeclarations: [WEATHER, TIME] }],
          toolConfig: {
            functionCallingConfig: {
              mode: FunctionCallingConfigMode.ANY,
              allowedFunctionNames: ['get_weather'],
            },
          },
        },
      });
      const calls = r.functionCalls ?? [];
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.name, 'get_weather');
      assert.equal(typeof calls[0]!.args?.['city'], 'string');
      assert.equal(calls[0]!.args?.['unit'], 'c');
      assert.equal(calls[0]!.args?.['days'], 1);
      assert.equal(r.candidates?.[0]?.finishReason, 'STOP', 'Gemini says STOP for calls');
      const p = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tool_call=get_weather,get_time'),
        config: { tools: [{ functionDeclarations: [WEATHER, TIME] }] },
      });
      assert.deepEqual(
        p.functionCalls?.map((c) => c.name),
        ['get_weather', 'get_time'],
      );
      assert.equal(typeof p.functionCalls?.[1]?.args?.['zone'], 'string');
      assert.deepEqual(sim.requests()[1]!.parsed?.tools, ['get_weather', 'get_time']);
      // NONE: text.
      const n = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=2 tool_call=get_weather'),
        config: {
          tools: [{ functionDeclarations: [WEATHER] }],
          toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } },
        },
      });
      assert.equal(n.functionCalls, undefined);
      assert.equal(n.text, expectedContent(PROMPT, 2));
    });

    it('function results go back as functionResponse parts', async () => {
      await ai.models.generateContent({
        model: MODEL,
        contents: [
          { role: 'user', parts: [{ text: 'weather in Paris?' }] },
          {
            role: 'model',
            parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } },
              { text: sim$('tokens=2') },
            ],
          },
        ],
        config: { tools: [{ functionDeclarations: [WEATHER] }] },
      });
      const seen = sim.requests()[0]!.parsed!.messages.join('\n');
      assert.match(seen, /get_weather\{"city":"Paris"\}/);
      assert.match(seen, /sunny/);
    });

    it('thinking: thought parts, a signature on the first answer part, thoughtsTokenCount', async () => {
      const r = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=4'),
        config: { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } },
      });
      const parts = r.candidates?.[0]?.content?.parts ?? [];
      assert.equal(parts[0]?.thought, true);
      assert.equal(parts[0]?.text, REASONING_WORDS.join(' '));
      assert.ok((parts[1]?.thoughtSignature ?? '').length > 20, 'a thought signature');
      assert.equal(r.text, expectedContent(PROMPT, 4), 'the text is the answer, not the thoughts');
      assert.equal(r.usageMetadata?.thoughtsTokenCount, REASONING_WORDS.length);
      assert.equal(r.usageMetadata?.candidatesTokenCount, 4);
      assert.equal(sim.requests()[0]!.parsed?.reasoning, true);
      // Thinking without includeThoughts: counted, not shown.
      const hidden = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=4'),
        config: { thinkingConfig: { thinkingBudget: 5 } },
      });
      assert.ok(!(hidden.candidates?.[0]?.content?.parts ?? []).some((p) => p.thought));
      assert.equal(hidden.usageMetadata?.thoughtsTokenCount, 5);
      // A budget of 0 turns thinking off.
      const off = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=4'),
        config: { thinkingConfig: { thinkingBudget: 0 } },
      });
      assert.equal(off.usageMetadata?.thoughtsTokenCount, undefined);
    });

    it('usage knobs: cached tokens as cachedContentTokenCount; usage=none sends none', async () => {
      const c = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=2 cached_tokens=4'),
      });
      assert.equal(c.usageMetadata?.cachedContentTokenCount, 4);
      assert.deepEqual(c.usageMetadata?.cacheTokensDetails, [{ modality: 'TEXT', tokenCount: 4 }]);
      const silent = await ai.models.generateContent({
        model: MODEL,
        contents: sim$('tokens=2 usage=none'),
      });
      assert.equal(silent.usageMetadata, undefined);
      assert.equal(silent.text, expectedContent(PROMPT, 2));
    });
  });

  describe('generateContentStream (alt=sse)', () => {
    it('text in order; every event repeats the usage totals so far', async () => {
      const { chunks, text, error } = await collect(
        await ai.models.generateContentStream({ model: MODEL, contents: sim$('tokens=6') }),
      );
      assert.equal(error, undefined);
      assert.equal(text, expectedContent(PROMPT, 6));
      const counts = chunks.map((c) => c.usageMetadata?.candidatesTokenCount ?? -1);
      assert.deepEqual(counts, [1, 2, 3, 4, 5, 6], 'cumulative, never per event');
      const prompt = countTextTokens([sim$('tokens=6')]);
      assert.ok(chunks.every((c) => c.usageMetadata?.promptTokenCount === prompt));
      assert.deepEqual(
        chunks.map((c) => c.candidates?.[0]?.finishReason ?? null),
        [null, null, null, null, null, 'STOP'],
      );
      assert.ok(chunks.every((c) => c.responseId === chunks[0]!.responseId));
    });

    it("Google's framing: data events ending in CRLF CRLF, no end marker", async () => {
      const res = await fetch(`${sim.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: sim$('tokens=2') }] }] }),
      });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const body = await res.text();
      const events = body.split('\r\n\r\n');
      assert.equal(events.pop(), '', 'ends after an event');
      assert.equal(events.length, 2);
      assert.ok(events.every((e) => e.startsWith('data: {"candidates": [')));
      assert.doesNotMatch(body, /\[DONE\]/);
      // Without alt=sse the stream is one JSON array.
      const array = await fetch(
        `${sim.url}/v1beta/models/${MODEL}:streamGenerateContent?key=${KEY}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            contents: [{ role: 'user', parts: [{ text: sim$('tokens=2') }] }],
          }),
        },
      );
      const list = (await array.json()) as unknown[];
      assert.equal(list.length, 2);
    });

    it('function calls arrive whole; parallel ones too', async () => {
      const { chunks } = await collect(
        await ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('tool_call=get_weather,get_time'),
          config: { tools: [{ functionDeclarations: [WEATHER, TIME] }] },
        }),
      );
      const calls = chunks.flatMap((c) => c.functionCalls ?? []);
      assert.deepEqual(
        calls.map((c) => c.name),
        ['get_weather', 'get_time'],
      );
      assert.equal(typeof calls[0]!.args?.['city'], 'string');
      assert.equal(chunks[chunks.length - 1]!.candidates?.[0]?.finishReason, 'STOP');
    });

    it('thinking: thought parts stream first, then the answer with its signature', async () => {
      const { chunks } = await collect(
        await ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('tokens=3'),
          config: { thinkingConfig: { includeThoughts: true } },
        }),
      );
      const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
      const thoughts = parts
        .filter((p) => p.thought)
        .map((p) => p.text)
        .join('');
      assert.equal(thoughts, REASONING_WORDS.join(' '));
      const firstAnswer = parts.find((p) => !p.thought);
      assert.ok(firstAnswer?.thoughtSignature, 'the signature is on the first answer part');
      const last = chunks[chunks.length - 1]!.usageMetadata;
      assert.equal(last?.thoughtsTokenCount, REASONING_WORDS.length);
      assert.equal(last?.candidatesTokenCount, 3);
    });

    it('candidateCount streams every candidate', async () => {
      const { chunks } = await collect(
        await ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('tokens=2'),
          config: { candidateCount: 2 },
        }),
      );
      const byIndex = new Map<number, string>();
      for (const c of chunks)
        for (const cand of c.candidates ?? [])
          byIndex.set(
            cand.index ?? 0,
            (byIndex.get(cand.index ?? 0) ?? '') + (cand.content?.parts?.[0]?.text ?? ''),
          );
      assert.deepEqual(
        [...byIndex.entries()],
        [
          [0, expectedContent(PROMPT, 2, 0)],
          [1, expectedContent(PROMPT, 2, 1)],
        ],
      );
    });

    it('stream_error: the first token, then an ApiError 500 from inside the stream', async () => {
      const { chunks, error } = await collect(
        await ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('tokens=5 stream_error=after_first'),
        }),
      );
      assert.equal(chunks.length, 1);
      const e = apiError(error, 500);
      assert.match(e.message, /INTERNAL/);
    });

    it('cut: the body ends after the first token, without a finish reason', async () => {
      const { chunks } = await collect(
        await ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('tokens=5 cut=after_first'),
        }),
      );
      assert.ok(chunks.length <= 1);
      assert.ok(chunks.every((c) => c.candidates?.[0]?.finishReason === undefined));
      const rec = await sim.waitForRequest((r) => r.outcome !== 'in_progress');
      assert.equal(rec.outcome, 'cut');
    });

    it('stall: a pause after the first token', async () => {
      const { times, text } = await collect(
        await ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('tokens=3 stall_ms=300 stall_after=1'),
        }),
      );
      assert.equal(text, expectedContent(PROMPT, 3));
      assert.ok(times[1]! - times[0]! >= 250, `stalled ${times[1]! - times[0]!}ms`);
    });

    it('an error before the stream is an ApiError from generateContentStream', async () => {
      await assert.rejects(
        ai.models.generateContentStream({
          model: MODEL,
          contents: sim$('status=503 retry_after=2'),
        }),
        (e: unknown) => {
          apiError(e, 503);
          assert.match((e as Error).message, /UNAVAILABLE/);
          assert.match((e as Error).message, /RetryInfo/);
          return true;
        },
      );
    });
  });

  describe('errors', () => {
    const statuses: [number, string][] = [
      [400, 'INVALID_ARGUMENT'],
      [401, 'UNAUTHENTICATED'],
      [403, 'PERMISSION_DENIED'],
      [404, 'NOT_FOUND'],
      [429, 'RESOURCE_EXHAUSTED'],
      [500, 'INTERNAL'],
      [503, 'UNAVAILABLE'],
      [504, 'DEADLINE_EXCEEDED'],
    ];
    for (const [status, name] of statuses) {
      it(`status=${status}: ApiError ${status}, Google's ${name} body`, async () => {
        await assert.rejects(
          ai.models.generateContent({
            model: MODEL,
            contents: sim$(`status=${status} retry_after=7`),
          }),
          (e: unknown) => {
            const err = apiError(e, status);
            const body = JSON.parse(err.message) as {
              error: { code: number; status: string; details?: unknown[] };
            };
            assert.equal(body.error.code, status);
            assert.equal(body.error.status, name);
            if (status === 429)
              assert.match(JSON.stringify(body.error.details), /"retryDelay":"7s"/);
            return true;
          },
        );
      });
    }

    it('a 403 quotes the API key (a consumer suspended), as Google does', async () => {
      await assert.rejects(
        ai.models.generateContent({ model: MODEL, contents: sim$('status=403') }),
        (e: unknown) => apiError(e, 403).message.includes(`api_key:${KEY}`),
      );
    });

    it('a wrong API key is a 400 API_KEY_INVALID; none at all a 403', async () => {
      const wrong = new GoogleGenAI({ apiKey: 'AIza-wrong', httpOptions: { baseUrl: sim.url } });
      await assert.rejects(
        wrong.models.generateContent({ model: MODEL, contents: 'hi' }),
        (e: unknown) => apiError(e, 400).message.includes('API_KEY_INVALID'),
      );
      const res = await fetch(`${sim.url}/v1beta/models/${MODEL}:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
      });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /"status": "PERMISSION_DENIED"/);
    });

    it('an unknown model, a prompt over the context window, a bad request body, a bad knob', async () => {
      await assert.rejects(
        ai.models.generateContent({ model: 'gemini-nope', contents: 'hi' }),
        (e: unknown) => apiError(e, 404).message.includes('models/gemini-nope is not found'),
      );
      await assert.rejects(
        ai.models.generateContent({ model: 'sim-gemini-tiny', contents: 'word '.repeat(200) }),
        (e: unknown) =>
          apiError(e, 400).message.includes('exceeds the maximum number of tokens allowed (32)'),
      );
      // (The SDK itself refuses empty contents: the raw request.)
      const empty = await fetch(`${sim.url}/v1beta/models/${MODEL}:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
        body: JSON.stringify({ contents: [] }),
      });
      assert.equal(empty.status, 400);
      assert.match(await empty.text(), /contents is not specified/);
      await assert.rejects(
        ai.models.generateContent({ model: MODEL, contents: sim$('status=banana') }),
        (e: unknown) => apiError(e, 400).message.includes('SIM_INVALID_KNOB'),
      );
    });

    it("a proxy's HTML page (body=html) is still an ApiError with the status", async () => {
      await assert.rejects(
        ai.models.generateContent({ model: MODEL, contents: sim$('status=502 body=html') }),
        (e: unknown) =>
          apiError(e, 502).message.includes('Proxy Error') ||
          (e as Error).message.includes('Bad Gateway'),
      );
    });

    it('reset: the connection is dropped, no response', async () => {
      await assert.rejects(
        ai.models.generateContent({ model: MODEL, contents: sim$('reset') }),
        (e: unknown) => !(e instanceof ApiError),
      );
    });
  });

  describe('models', () => {
    it('models.list and models.get', async () => {
      const pager = await ai.models.list();
      const names: string[] = [];
      for await (const m of pager) names.push(m.name ?? '');
      assert.deepEqual(names, [`models/${MODEL}`, 'models/sim-gemini-tiny']);
      const m = await ai.models.get({ model: MODEL });
      assert.equal(m.name, `models/${MODEL}`);
      assert.equal(m.inputTokenLimit, 8192);
      assert.ok(m.supportedActions?.includes('generateContent') ?? true);
      await assert.rejects(
        ai.models.get({ model: 'nope' }),
        (e: unknown) => apiError(e, 404) !== undefined,
      );
    });
  });

  describe('Vertex AI', () => {
    const TOKEN = KEY; // the simulator checks the bearer token against its one secret
    const vertex = (token: string) =>
      new GoogleGenAI({
        vertexai: true,
        project: 'sim-project',
        location: 'us-central1',
        httpOptions: { baseUrl: sim.url },
        googleAuthOptions: {
          // An already minted access token (the gateway's accounts hold one).
          authClient: {
            getRequestHeaders: () =>
              Promise.resolve(new Headers({ authorization: `Bearer ${token}` })),
          } as never,
        },
      });

    it('generateContent and generateContentStream on the Vertex path, with a Bearer token', async () => {
      const ai2 = vertex(TOKEN);
      const r = await ai2.models.generateContent({ model: MODEL, contents: sim$('tokens=3') });
      assert.equal(r.text, expectedContent(PROMPT, 3));
      assert.equal(r.usageMetadata?.trafficType, 'ON_DEMAND', "Vertex's usage");
      assert.ok(r.createTime, "Vertex's createTime");
      const { text } = await collect(
        await ai2.models.generateContentStream({ model: MODEL, contents: sim$('tokens=3') }),
      );
      assert.equal(text, expectedContent(PROMPT, 3));
    });

    it('express mode: the publisher path with an API key; the v1 path the gateway calls', async () => {
      const body = JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: sim$('tokens=2') }] }],
      });
      const express = await fetch(
        `${sim.url}/v1/publishers/google/models/${MODEL}:generateContent?key=${KEY}`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      );
      assert.equal(express.status, 200);
      const v1 = await fetch(
        `${sim.url}/v1/projects/p/locations/europe-west4/publishers/google/models/${MODEL}:streamGenerateContent?alt=sse`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body,
        },
      );
      assert.equal(v1.status, 200);
      assert.match(await v1.text(), /"trafficType": "ON_DEMAND"/);
    });

    it('a wrong token is a 401 UNAUTHENTICATED; an unknown model names the publisher model', async () => {
      await assert.rejects(
        vertex('ya29.wrong').models.generateContent({ model: MODEL, contents: 'hi' }),
        (e: unknown) => apiError(e, 401).message.includes('UNAUTHENTICATED'),
      );
      await assert.rejects(
        vertex(TOKEN).models.generateContent({ model: 'nope', contents: 'hi' }),
        (e: unknown) =>
          apiError(e, 404).message.includes(
            'projects/sim-project/locations/us-central1/publishers/google/models/nope',
          ),
      );
    });
  });
});
