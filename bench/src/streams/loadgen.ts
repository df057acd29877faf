/**
 * The load generator of `bench:streams`, a process of its own (forked by main.ts): opens `streams`
 * concurrent streaming Chat Completions at `openPerS` a second, reads each to its end, and sends
 * back one {@link StreamSample} per stream over IPC. It runs nothing else, so its CPU is the
 * client's alone.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { errorKind, type StreamSample } from './stats.js';

export interface LoadgenJob {
  url: string;
  apiKey: string;
  /** Streams go round-robin over these models (one per upstream simulator). */
  models: string[];
  streams: number;
  openPerS: number;
  prompt: string;
  maxTokens: number;
  /** Headers and body idle timeouts of the client, ms. */
  timeoutMs: number;
}

export type LoadgenMessage =
  | { kind: 'progress'; started: number; open: number; ended: number }
  | { kind: 'done'; samples: StreamSample[] }
  | { kind: 'failed'; error: string };

const now = () => performance.timeOrigin + performance.now();

async function one(
  job: LoadgenJob,
  agent: Agent,
  model: string,
  live: Live,
): Promise<StreamSample> {
  const t0 = performance.now();
  const s: StreamSample = {
    status: 0,
    ttfbMs: NaN,
    ttftMs: NaN,
    totalMs: NaN,
    contentEvents: 0,
    usageTokens: NaN,
    done: false,
    openAt: NaN,
    closeAt: NaN,
  };
  const end = (error?: string) => {
    s.totalMs = performance.now() - t0;
    if (Number.isFinite(s.openAt)) {
      s.closeAt = now();
      live.open--;
    }
    live.ended++;
    if (error) s.error = errorKind(error);
    return s;
  };
  try {
    const res = await request(`${job.url}/v1/chat/completions`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${job.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: job.maxTokens,
        messages: [{ role: 'user', content: job.prompt }],
      }),
    });
    s.status = res.statusCode;
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      let code = '';
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
      } catch {
        // not JSON
      }
      return end(`http ${res.statusCode}${code ? ` ${code}` : ''}`);
    }
    s.ttfbMs = performance.now() - t0;
    s.openAt = now();
    live.open++;
    res.body.setEncoding('utf8');
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<string>) {
      buf += chunk;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') {
          s.done = true;
          continue;
        }
        const parsed = JSON.parse(data) as {
          choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
          usage?: { completion_tokens?: number } | null;
          error?: { code?: string; type?: string };
        };
        if (parsed.error)
          return end(`stream error ${parsed.error.code ?? parsed.error.type ?? '?'}`);
        const choice = parsed.choices?.[0];
        if (choice?.delta?.content) {
          s.contentEvents++;
          if (Number.isNaN(s.ttftMs)) s.ttftMs = performance.now() - t0;
        }
        if (choice?.finish_reason === 'error') return end('stream error finish_reason=error');
        if (typeof parsed.usage?.completion_tokens === 'number')
          s.usageTokens = parsed.usage.completion_tokens;
      }
    }
    return end();
  } catch (e) {
    const err = e as Error & { code?: string };
    return end(err.code ?? err.name ?? err.message);
  }
}

interface Live {
  started: number;
  open: number;
  ended: number;
}

export async function runJob(
  job: LoadgenJob,
  onProgress?: (live: Live) => void,
): Promise<StreamSample[]> {
  const agent = new Agent({
    connections: null,
    pipelining: 1,
    headersTimeout: job.timeoutMs,
    bodyTimeout: job.timeoutMs,
    connect: { timeout: job.timeoutMs },
    keepAliveTimeout: 1_000,
  });
  const live: Live = { started: 0, open: 0, ended: 0 };
  const ticker = setInterval(() => onProgress?.(live), 1_000);
  try {
    const pending: Array<Promise<StreamSample>> = [];
    const t0 = performance.now();
    // Paced: stream i starts at i / openPerS seconds, in ticks of 20 ms.
    while (live.started < job.streams) {
      const due = Math.min(
        job.streams,
        Math.floor(((performance.now() - t0) / 1000) * job.openPerS) + 1,
      );
      while (live.started < due) {
        const model = job.models[live.started % job.models.length]!;
        live.started++;
        pending.push(one(job, agent, model, live));
      }
      if (live.started < job.streams) await sleep(20);
    }
    return await Promise.all(pending);
  } finally {
    clearInterval(ticker);
    onProgress?.(live);
    await agent.close().catch(() => undefined);
  }
}

// A forked child: one job from the parent, the samples back.
if (process.send && process.argv[2] === '--child') {
  process.once('message', (job: LoadgenJob) => {
    runJob(job, (l) => process.send!({ kind: 'progress', ...l } satisfies LoadgenMessage)).then(
      (samples) =>
        process.send!({ kind: 'done', samples } satisfies LoadgenMessage, () => process.exit(0)),
      (e: unknown) =>
        process.send!(
          { kind: 'failed', error: (e as Error).stack ?? String(e) } satisfies LoadgenMessage,
          () => process.exit(1),
        ),
    );
  });
}
