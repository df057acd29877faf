/**
 * A catalog served offline: every endpoint's provider pointed at the local simulator of its wire
 * protocol (`adapterFor(kind).protocol`), one simulator per protocol, with an account of the
 * right credential type. Endpoints whose provider kind has no adapter yet, or whose protocol has
 * no simulator yet (`SIM_PROTOCOLS`), are left out and reported: the plan fills in as adapters
 * and simulators land. In production the same catalog is served by accounts at the providers'
 * real base URLs instead.
 */
import type {
  CatalogFile,
  CatalogFileModel,
  CatalogFileProvider,
  ProviderConnection,
} from '@turnpike/contracts';
import { adapterFor } from '@turnpike/providers';
import { SIM_AWS_ACCESS_KEY_ID, simProtocol } from '@turnpike/simulators';

/** Where a simulator listens and the secret it expects (an API key, or the AWS secret key). */
export interface SimEndpointInfo {
  /** The base URL the protocol's SDKs take (origin + the protocol's base path). */
  url: string;
  origin: string;
  apiKey: string;
}

/** Builds the account of a provider kind that reaches a simulator. */
export type SimConnection = (kind: string, sim: SimEndpointInfo) => ProviderConnection;

/**
 * The default account for a simulator: credentials of the adapter's first credential type, the
 * simulator's secret in the secret's place. (`libs/conformance` TARGETS know each protocol's
 * exact needs; `npm run up` prefers them.)
 */
export const simulatorConnection: SimConnection = (kind, sim) => {
  const type = adapterFor(kind)?.credentialTypes[0] ?? 'api_key';
  switch (type) {
    case 'azure':
      return {
        baseUrl: sim.origin,
        credentials: {
          type: 'azure',
          apiKey: sim.apiKey,
          apiVersion: '2024-10-21',
          deployments: {},
        },
      };
    case 'aws':
      return {
        baseUrl: sim.origin,
        credentials: {
          type: 'aws',
          accessKeyId: SIM_AWS_ACCESS_KEY_ID,
          secretAccessKey: sim.apiKey,
          region: 'us-east-1',
        },
      };
    case 'vertex':
      return {
        baseUrl: sim.origin,
        credentials: {
          type: 'vertex',
          accessToken: sim.apiKey,
          projectId: 'turnpike-local',
          location: 'us-central1',
        },
      };
    default:
      return { baseUrl: sim.url, credentials: { type: 'api_key', apiKey: sim.apiKey } };
  }
};

/** One simulator of the plan: a protocol, the upstream models it must serve, its providers. */
export interface PlannedSimulator {
  id: string;
  protocol: string;
  models: Array<{ id: string; contextLength: number }>;
  accounts: Array<{ provider: string; kind: string }>;
}

export interface LocalCatalogPlan {
  /** The servable part of the catalog. */
  catalog: CatalogFile;
  simulators: PlannedSimulator[];
  /** Providers left out, with why and how many endpoints they had. */
  leftOut: Array<{ provider: string; kind: string; reason: string; endpoints: number }>;
}

export function planLocalCatalog(catalog: CatalogFile, simPrefix = 'upstream-'): LocalCatalogPlan {
  const protocolOf = new Map<string, string>();
  const leftOut: LocalCatalogPlan['leftOut'] = [];
  const count = (provider: string) =>
    catalog.models.reduce(
      (n, m) => n + m.endpoints.filter((e) => e.provider === provider).length,
      0,
    );
  for (const p of catalog.providers) {
    const adapter = adapterFor(p.kind);
    if (!adapter) {
      leftOut.push({
        provider: p.id,
        kind: p.kind,
        reason: 'no adapter for its kind yet',
        endpoints: count(p.id),
      });
    } else if (!simProtocol(adapter.protocol)) {
      leftOut.push({
        provider: p.id,
        kind: p.kind,
        reason: `no simulator of the ${adapter.protocol} protocol yet`,
        endpoints: count(p.id),
      });
    } else protocolOf.set(p.id, adapter.protocol);
  }
  const sims = new Map<string, PlannedSimulator>();
  const sim = (protocol: string) => {
    let s = sims.get(protocol);
    if (!s)
      sims.set(
        protocol,
        (s = { id: `${simPrefix}${protocol}`, protocol, models: [], accounts: [] }),
      );
    return s;
  };
  for (const p of catalog.providers) {
    const protocol = protocolOf.get(p.id);
    if (protocol) sim(protocol).accounts.push({ provider: p.id, kind: p.kind });
  }
  const contexts = new Map<string, Map<string, number>>();
  const models: CatalogFileModel[] = [];
  for (const m of catalog.models) {
    const endpoints = m.endpoints.filter((e) => protocolOf.has(e.provider));
    if (endpoints.length === 0) continue;
    models.push({ ...m, endpoints });
    for (const e of endpoints) {
      const protocol = protocolOf.get(e.provider)!;
      const byId = contexts.get(protocol) ?? new Map<string, number>();
      byId.set(e.upstream_model, Math.max(byId.get(e.upstream_model) ?? 0, e.context_length));
      contexts.set(protocol, byId);
    }
  }
  for (const [protocol, byId] of contexts)
    sim(protocol).models = [...byId].sort().map(([id, contextLength]) => ({ id, contextLength }));
  const served = new Set(models.flatMap((m) => m.endpoints.map((e) => e.provider)));
  return {
    catalog: {
      ...catalog,
      providers: catalog.providers.filter((p) => served.has(p.id)),
      models,
    },
    simulators: [...sims.values()].filter((s) => s.models.length > 0),
    leftOut,
  };
}

/** Two catalog documents as one (the first's description; ids must not collide). */
export function mergeCatalogs(a: CatalogFile, b: CatalogFile): CatalogFile {
  const providers = new Map<string, CatalogFileProvider>();
  for (const p of [...a.providers, ...b.providers]) providers.set(p.id, p);
  return {
    version: 1,
    ...(a.description !== undefined ? { description: a.description } : {}),
    providers: [...providers.values()],
    models: [...a.models, ...b.models],
  };
}
