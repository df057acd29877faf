/**
 * One process of `bench:kafka-clients`, forked by main.ts with its role and client as JSON in argv[2]
 * and driven over the IPC channel: the gateway side (a producer of requests and a consumer of its
 * reply partition, plus the closed-loop load), the connector side (a group consumer of requests that
 * produces the replies), an idle client, a producer flat out, or the broker-restart probe.
 */
import { performance } from 'node:perf_hooks';
import type { BenchClient, BenchProducer, InMessage, OutMessage } from './client.js';
import { confluentClient, loadConfluent } from './confluent-client.js';
import { kafkajsClient } from './kafkajs-client.js';
import { platformaticClient } from './platformatic-client.js';
import type { ProbeSend } from './stats.js';

export interface SideConfig {
  role: 'gateway' | 'connector' | 'idle' | 'produce' | 'restart';
  client: BenchClient['name'];
  brokers: string;
  cacheDir: string;
  /** gateway, connector: requests and replies; idle, produce, restart: `topic`. */
  requestsTopic?: string;
  repliesTopic?: string;
  topic?: string;
  /** The connector's group (gateways and probes use a group of their own). */
  groupId?: string;
}

export type Command =
  | { type: 'cpu' }
  | { type: 'hop'; concurrency: number; roundTrips: number; replies: number; timeoutMs: number }
  | { type: 'produce'; messages: number; bytes: number; perSend: number; inFlight: number }
  | { type: 'probe-start'; everyMs: number }
  | { type: 'probe-report' }
  | { type: 'stop' };

/** The reply carries the request's `id`. */
export type Reply = { id: number } & Record<string, unknown>;

const cfg = JSON.parse(process.argv[2] ?? '{}') as SideConfig;
const errors: string[] = [];
const noteError = (e: Error) => {
  if (errors.length < 20) errors.push(e.message);
};

async function makeClient(): Promise<BenchClient> {
  const id = `bench-${cfg.role}-${process.pid}`;
  switch (cfg.client) {
    case 'kafkajs':
      return kafkajsClient(cfg.brokers, id);
    case 'platformatic':
      return platformaticClient(cfg.brokers, id);
    case 'confluent':
      return confluentClient(await loadConfluent(cfg.cacheDir, () => undefined), cfg.brokers, id);
  }
}

/**
 * What libs/kafka's BatchingProducer does, for every client alike: the messages handed over in one
 * tick of the event loop go out as one send (up to 500), several sends in flight.
 */
class TickBatcher {
  private queue: Array<{ msg: OutMessage; done: (e?: Error) => void }> = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly producer: BenchProducer,
    private readonly topic: string,
    private readonly maxInFlight = 5,
    private readonly maxBatch = 500,
  ) {}

  send(msg: OutMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, done: (e) => (e ? reject(e) : resolve()) });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.producer
        .send(
          this.topic,
          batch.map((b) => b.msg),
        )
        .then(
          () => this.settle(batch),
          (e: Error) => this.settle(batch, e),
        );
    }
  }

  private settle(batch: Array<{ done: (e?: Error) => void }>, e?: Error): void {
    this.inFlight--;
    for (const b of batch) b.done(e);
    if (this.queue.length > 0) this.schedule();
  }
}

/** A consumer on the hot path's settings (20 ms long poll), in `groupId` or a group of its own. */
function consume(
  client: BenchClient,
  topic: string,
  onMessages: (messages: InMessage[]) => void,
  o: { groupId?: string; fromBeginning?: boolean } = {},
) {
  return client.consumer({
    groupId: o.groupId ?? `bench-${cfg.role}-${process.pid}`,
    topic,
    fromBeginning: o.fromBeginning ?? true,
    maxWaitMs: 20,
    onError: noteError,
    onMessages,
  });
}

/** Runs `workers` loops at once; wall time and this process's CPU seconds meanwhile. */
async function timed(workers: number, worker: () => Promise<void>) {
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await Promise.all(Array.from({ length: workers }, worker));
  const wallMs = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuS: (cpu.user + cpu.system) / 1e6 };
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const REQUEST_PAD = 'x'.repeat(300);
const CHUNK_PAD = 'y'.repeat(100);

async function connector(client: BenchClient): Promise<void> {
  const producer = await client.producer();
  const replies = new TickBatcher(producer, cfg.repliesTopic!);
  await consume(
    client,
    cfg.requestsTopic!,
    (messages) => {
      for (const m of messages) {
        const req = JSON.parse(m.value.toString('utf8')) as { g: string; n: number };
        for (let s = 0; s < req.n; s++) {
          replies
            .send({
              key: req.g,
              partition: 0,
              value: Buffer.from(JSON.stringify({ g: req.g, s, n: req.n, c: CHUNK_PAD })),
              headers: { traceparent: m.headers['traceparent'] ?? TRACEPARENT },
            })
            .catch(noteError);
        }
      }
    },
    { groupId: cfg.groupId! },
  );
}

interface Pending {
  t0: number;
  first: number;
  got: number;
  n: number;
  done: (ok: boolean) => void;
}

async function gateway(client: BenchClient): Promise<(c: Command) => Promise<unknown>> {
  const producer = await client.producer();
  const requests = new TickBatcher(producer, cfg.requestsTopic!);
  const pending = new Map<string, Pending>();
  await consume(client, cfg.repliesTopic!, (messages) => {
    const now = performance.now();
    for (const m of messages) {
      const reply = JSON.parse(m.value.toString('utf8')) as { g: string; s: number };
      const p = pending.get(reply.g);
      if (!p) continue;
      if (p.got === 0) p.first = now - p.t0;
      if (++p.got === p.n) p.done(true);
    }
  });
  let seq = 0;
  return async (c) => {
    if (c.type !== 'hop') throw new Error(`gateway: unexpected ${c.type}`);
    const firstMs: number[] = [];
    const lastMs: number[] = [];
    let errorCount = 0;
    let started = 0;
    const one = async () => {
      const g = `${process.pid}-${++seq}`;
      const t0 = performance.now();
      const p: Pending = { t0, first: NaN, got: 0, n: c.replies, done: () => undefined };
      const finished = new Promise<boolean>((resolve) => (p.done = resolve));
      pending.set(g, p);
      const timer = setTimeout(() => p.done(false), c.timeoutMs);
      requests
        .send({
          key: g,
          value: Buffer.from(JSON.stringify({ g, n: c.replies, p: REQUEST_PAD })),
          headers: { traceparent: TRACEPARENT },
        })
        .catch((e: Error) => {
          noteError(e);
          p.done(false);
        });
      const ok = await finished;
      clearTimeout(timer);
      pending.delete(g);
      if (ok) {
        firstMs.push(p.first);
        lastMs.push(performance.now() - t0);
      } else errorCount++;
    };
    const worker = async () => {
      while (started < c.roundTrips) {
        started++;
        await one();
      }
    };
    const t = await timed(Math.min(c.concurrency, c.roundTrips), worker);
    return { firstMs, lastMs, errors: errorCount, ...t };
  };
}

async function produce(client: BenchClient): Promise<(c: Command) => Promise<unknown>> {
  const producer = await client.producer();
  return async (c) => {
    if (c.type !== 'produce') throw new Error(`produce: unexpected ${c.type}`);
    const value = Buffer.alloc(c.bytes, 'z');
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < c.messages) {
        const n = Math.min(c.perSend, c.messages - next);
        const batch = Array.from({ length: n }, (_, i) => ({ key: `k${next + i}`, value }));
        next += n;
        await producer.send(cfg.topic!, batch).catch((e: Error) => {
          failed += n;
          noteError(e);
        });
      }
    };
    return { failed, ...(await timed(c.inFlight, worker)) };
  };
}

async function idle(client: BenchClient): Promise<void> {
  await client.producer();
  await consume(client, cfg.topic!, () => undefined, { fromBeginning: false });
}

/** Sends one message every `everyMs` throughout, records how each send ends and when each arrives. */
async function probe(client: BenchClient): Promise<(c: Command) => Promise<unknown>> {
  const producer = await client.producer();
  const sends: ProbeSend[] = [];
  const received = new Map<number, number[]>();
  await consume(client, cfg.topic!, (messages) => {
    const now = Date.now();
    for (const m of messages) {
      const s = Number(m.key);
      received.set(s, [...(received.get(s) ?? []), now]);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  return async (c) => {
    if (c.type === 'probe-start') {
      timer = setInterval(() => {
        const s: ProbeSend = { seq: sends.length, sentAt: Date.now() };
        sends.push(s);
        producer.send(cfg.topic!, [{ key: String(s.seq), value: Buffer.from('probe') }]).then(
          () => Object.assign(s, { ok: true, doneAt: Date.now() }),
          (e: Error) => Object.assign(s, { ok: false, doneAt: Date.now(), error: e.message }),
        );
      }, c.everyMs);
      return {};
    }
    if (c.type === 'probe-report') {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 3000));
      return { sends, received: [...received.entries()] };
    }
    throw new Error(`probe: unexpected ${c.type}`);
  };
}

async function main(): Promise<void> {
  const client = await makeClient();
  let handle: (c: Command) => Promise<unknown> = () => Promise.resolve({});
  switch (cfg.role) {
    case 'connector':
      await connector(client);
      break;
    case 'gateway':
      handle = await gateway(client);
      break;
    case 'produce':
      handle = await produce(client);
      break;
    case 'idle':
      await idle(client);
      break;
    case 'restart':
      handle = await probe(client);
      break;
  }
  process.on('message', (msg: { id: number; command: Command }) => {
    const { id, command } = msg;
    const answer = async (): Promise<unknown> => {
      if (command.type === 'cpu') return { cpu: process.cpuUsage() };
      if (command.type === 'stop') {
        setTimeout(() => process.exit(0), 100).unref();
        return {};
      }
      return handle(command);
    };
    answer().then(
      (r) => process.send!({ id, ...(r as object), clientErrors: errors.splice(0) }),
      (e: Error) => process.send!({ id, error: e.message }),
    );
  });
  process.send!({ id: 0, ready: true, version: client.version });
}

main().catch((e: Error) => {
  process.send?.({ id: 0, error: e.stack ?? e.message });
  setTimeout(() => process.exit(1), 100);
});
