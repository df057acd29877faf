/** The node:http server: routing, lifecycle, state. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { authorize, handleChatCompletion, type ChatContext } from './chat-handler.js';
import { CONTROL_PREFIX, handleControl } from './control.js';
import { errors, SimHttpError } from './errors.js';
import type { Generation } from './generation.js';
import { Exchange } from './http-util.js';
import { systemFingerprint } from './ids.js';
import { BASE_KNOBS, mergeKnobs } from './knobs.js';
import { RecordStore } from './records.js';
import { modelList, modelObject } from './responses.js';
import type {
  Knobs,
  OpenAISimulator,
  SimModel,
  SimRequestRecord,
  SimulatorOptions,
} from './types.js';

export const DEFAULT_MODELS: readonly SimModel[] = [
  { id: 'sim-gpt-small', contextLength: 8192 },
  { id: 'sim-gpt-large', contextLength: 128_000 },
  { id: 'sim-gpt-nano', contextLength: 512 },
];

/** Idle keep-alive sockets live this long (clients such as undici reuse them within it). */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 60_000;

export class SimulatorServer implements OpenAISimulator {
  readonly name: string;
  url = '';
  port = 0;
  private readonly server: Server;
  private readonly records = new RecordStore();
  private readonly active = new Set<Generation>();
  private readonly initialDefaults: Knobs;
  private currentDefaults: Knobs;
  private readonly models: ReadonlyMap<string, SimModel>;
  private readonly chat: ChatContext;

  constructor(private readonly opts: SimulatorOptions = {}) {
    this.name = opts.name ?? 'openai-sim';
    this.initialDefaults = mergeKnobs(BASE_KNOBS, opts.defaults);
    this.currentDefaults = { ...this.initialDefaults };
    this.models = new Map((opts.models ?? DEFAULT_MODELS).map((m) => [m.id, m]));
    this.chat = {
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      models: this.models,
      systemFingerprint: systemFingerprint(this.name),
      defaults: () => ({ ...this.currentDefaults }),
      records: this.records,
      active: this.active,
    };
    this.server = createServer(
      { noDelay: true, keepAlive: true },
      (req, res) => void this.handle(req, res),
    );
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.server.requestTimeout = 0; // streams may legitimately be long; idle sockets are bounded above
    this.server.on('connection', (s: Socket) => s.setNoDelay(true));
    this.server.on('clientError', (_e, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  async listen(): Promise<this> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.opts.port ?? 0, host, backlog: 4096 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    this.url = `http://${urlHost}:${this.port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    for (const g of this.active) g.cancel();
    this.active.clear();
    this.records.abandonWaiters();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  requests(): SimRequestRecord[] {
    return this.records.list();
  }

  reset(): void {
    this.records.clear();
    this.currentDefaults = { ...this.initialDefaults };
  }

  setDefaults(k: Partial<Knobs>): void {
    this.currentDefaults = mergeKnobs(this.currentDefaults, k);
  }

  defaults(): Knobs {
    return { ...this.currentDefaults };
  }

  waitForRequest(predicate: (r: SimRequestRecord) => boolean, opts: { timeoutMs?: number } = {}) {
    return this.records.waitFor(predicate, opts.timeoutMs ?? 5_000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ex = new Exchange(req, res, this.name);
    const path = new URL(req.url ?? '/', 'http://sim').pathname.replace(/\/+$/, '') || '/';
    try {
      if (path.startsWith(CONTROL_PREFIX))
        return await handleControl(this.controlTarget(), ex, path);
      await this.route(ex, path);
    } catch (e) {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (e instanceof SimHttpError) ex.error(e);
      else ex.error(errors.serverError());
    }
  }

  private async route(ex: Exchange, path: string): Promise<void> {
    const method = ex.method;
    if (method === 'POST' && path === '/v1/chat/completions')
      return handleChatCompletion(this.chat, ex);
    if (method === 'GET' && path === '/v1/models') {
      authorize(this.chat, ex);
      return ex.json(200, modelList([...this.models.values()]));
    }
    const modelPath = /^\/v1\/models\/(.+)$/.exec(path);
    if (method === 'GET' && modelPath?.[1]) {
      authorize(this.chat, ex);
      const id = decodeURIComponent(modelPath[1]);
      const model = this.models.get(id);
      if (!model) throw errors.modelNotFound(id);
      return ex.json(200, modelObject(model));
    }
    throw errors.invalidUrl(method, path);
  }

  private controlTarget() {
    return {
      name: this.name,
      models: [...this.models.values()],
      requests: () => this.requests(),
      reset: () => this.reset(),
      setDefaults: (k: Partial<Knobs>) => this.setDefaults(k),
      defaults: () => this.defaults(),
      inFlight: () => this.active.size,
    };
  }
}
