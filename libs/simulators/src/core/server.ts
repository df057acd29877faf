/**
 * The server: routing, lifecycle, state. One port serves HTTP/1.1 and cleartext HTTP/2 with prior
 * knowledge (h2c, as the AWS SDK's HTTP/2 handler speaks to an `http://` endpoint): each
 * connection's first bytes tell which (the HTTP/2 preface starts `PRI `).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { CONTROL_PREFIX, handleControl } from './control.js';
import type { Generation } from './generation.js';
import { Exchange } from './http-util.js';
import { BASE_KNOBS, mergeKnobs } from './knobs.js';
import type { SimContext, SimProtocol } from './protocol.js';
import { RecordStore } from './records.js';
import { SimHttpError } from './sim-error.js';
import type { Knobs, SimModel, SimRequestRecord, Simulator, SimulatorOptions } from './types.js';

/** The models a simulator serves unless told otherwise (their ids are the protocol's). */
export const DEFAULT_MODELS: readonly SimModel[] = [
  { id: 'sim-gpt-small', contextLength: 8192 },
  { id: 'sim-gpt-large', contextLength: 128_000 },
  { id: 'sim-gpt-nano', contextLength: 512 },
];

/** Idle keep-alive sockets live this long (clients such as undici reuse them within it). */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 60_000;

/** One simulator: a node:http server speaking one protocol, with the control API beside it. */
export class SimulatorServer implements Simulator {
  readonly name: string;
  url = '';
  origin = '';
  port = 0;
  private readonly server: Server;
  private readonly http1: HttpServer;
  private readonly http2: Http2Server;
  private readonly sockets = new Set<Socket>();
  private readonly records: RecordStore;
  private readonly active = new Set<Generation>();
  private readonly faultCounts = new Map<string, number>();
  private readonly initialDefaults: Knobs;
  private currentDefaults: Knobs;
  private readonly models: ReadonlyMap<string, SimModel>;
  private readonly ctx: SimContext;
  private readonly initialKeys: readonly string[];
  private keys: readonly string[];

  constructor(
    readonly protocol: SimProtocol,
    private readonly opts: SimulatorOptions = {},
  ) {
    this.name = opts.name ?? `${protocol.name}-sim`;
    this.records = new RecordStore(opts.maxRecords);
    this.initialDefaults = mergeKnobs(BASE_KNOBS, opts.defaults);
    this.currentDefaults = { ...this.initialDefaults };
    this.models = new Map((opts.models ?? DEFAULT_MODELS).map((m) => [m.id, m]));
    this.initialKeys = opts.apiKey ? [opts.apiKey] : [];
    this.keys = this.initialKeys;
    // The keys change at run time (`POST /__sim/auth`): the context reads them live.
    const keys = () => this.keys;
    this.ctx = {
      name: this.name,
      get apiKey() {
        return keys()[0];
      },
      get apiKeys() {
        return keys();
      },
      ...(opts.accessKeyId ? { accessKeyId: opts.accessKeyId } : {}),
      models: this.models,
      defaults: () => ({ ...this.currentDefaults }),
      records: this.records,
      active: this.active,
      faultCounts: this.faultCounts,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.http1 = createHttpServer({ noDelay: true, keepAlive: true }, handler);
    this.http1.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.http1.headersTimeout = HEADERS_TIMEOUT_MS;
    this.http1.requestTimeout = 0; // streams may legitimately be long; idle sockets are bounded above
    this.http1.on('clientError', (_e, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    // The compat API's request and response stand in for node:http's (the parts used here).
    this.http2 = createHttp2Server(
      {},
      handler as unknown as Parameters<typeof createHttp2Server>[1],
    );
    this.http2.on('sessionError', () => {});
    this.server = createNetServer({ noDelay: true }, (socket) => this.dispatch(socket));
  }

  /** Hands a connection to the HTTP/1.1 or the HTTP/2 server by its first bytes. */
  private dispatch(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setNoDelay(true);
    socket.on('error', () => {});
    // A connection that never says anything is dropped (Node's headersTimeout counts from a
    // listen() of its own, which the HTTP/1.1 server here does not do).
    const silent = () => socket.destroy();
    socket.setTimeout(HEADERS_TIMEOUT_MS, silent);
    let seen = Buffer.alloc(0);
    const sniff = () => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      seen = Buffer.concat([seen, chunk]);
      // The first bytes may arrive alone: wait while they could still begin the preface.
      if (seen.length < 4 && 'PRI '.startsWith(seen.toString('latin1'))) return;
      socket.off('readable', sniff);
      socket.setTimeout(0);
      socket.off('timeout', silent);
      socket.unshift(seen);
      const h2 = seen.subarray(0, 4).toString('latin1') === 'PRI ';
      (h2 ? this.http2 : this.http1).emit('connection', socket);
    };
    socket.on('readable', sniff);
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
    this.origin = `http://${urlHost}:${this.port}`;
    this.url = `${this.origin}${this.protocol.basePath}`;
    return this;
  }

  async close(): Promise<void> {
    for (const g of this.active) g.cancel();
    this.active.clear();
    this.records.abandonWaiters();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  requests(): SimRequestRecord[] {
    return this.records.list();
  }

  reset(): void {
    this.records.clear();
    this.faultCounts.clear();
    this.currentDefaults = { ...this.initialDefaults };
    this.keys = this.initialKeys;
  }

  /** The API keys accepted from now on (a key rotation: the new key, then without the old). */
  setApiKeys(keys: readonly string[]): void {
    this.keys = [...keys];
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
    const ex = new Exchange(
      req,
      res,
      this.name,
      (x) => this.protocol.responseHeaders(x),
      (x, body) => (this.protocol.errorBody ? this.protocol.errorBody(x, body) : body),
    );
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      if (path.startsWith(CONTROL_PREFIX))
        return await handleControl(this.controlTarget(), ex, path);
      if (!(await this.protocol.route(this.ctx, ex, path, url)))
        throw this.protocol.notFound(ex.method, path);
    } catch (e) {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      if (e instanceof SimHttpError) ex.error(e);
      else ex.error(this.protocol.internalError());
    }
  }

  private controlTarget() {
    return {
      name: this.name,
      models: [...this.models.values()],
      requests: () => this.requests(),
      reset: () => this.reset(),
      setDefaults: (k: Partial<Knobs>) => this.setDefaults(k),
      setApiKeys: (keys: readonly string[]) => this.setApiKeys(keys),
      defaults: () => this.defaults(),
      inFlight: () => this.active.size,
    };
  }
}
