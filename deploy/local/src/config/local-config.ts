/**
 * `npm run up`'s configuration surface: one file (`<state dir>/config.env`, or `TURNPIKE_CONFIG`)
 * plus the environment (which wins). It holds `up`'s own `TURNPIKE_*` settings (below) and any
 * setting of any service's config class (docs/configuration.md), which reaches the services that
 * read it; `OTEL_*` reaches every service. `CONNECTOR_PROVIDERS` / `CONNECTOR_PROVIDERS_FILE`
 * (real provider accounts) are added to the simulators' accounts, sealed under the state dir's
 * master key. A name in the file that is no setting is refused (a typo must not pass silently);
 * the environment holds much else, so only the names that are settings are taken from it.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ConfiguredProcess } from '../settings.js';
import { isForeignSetting } from '../settings.js';

/** One of `up`'s own settings (for the generated reference too). */
export interface LocalSetting {
  name: string;
  default: string;
  description: string;
}

export const LOCAL_SETTINGS: LocalSetting[] = [
  {
    name: 'TURNPIKE_CONFIG',
    default: '`<state dir>/config.env`',
    description:
      'The configuration file: `KEY=value` lines (`export` and quotes allowed, `#` comments). `up` writes a commented one on first run.',
  },
  {
    name: 'TURNPIKE_STATE_DIR',
    default: '`.turnpike`',
    description:
      'Where `up` keeps everything: data (Kafka, Postgres), logs, the master key, the admin token, the chosen ports, `local.env`. Kept by `down`; delete it to start afresh.',
  },
  {
    name: 'TURNPIKE_BIND',
    default: '`127.0.0.1`',
    description:
      'Address the gateway listens on; `0.0.0.0` serves a team on the network. Kafka, Postgres, the simulators and the other services stay on 127.0.0.1.',
  },
  {
    name: 'TURNPIKE_GATEWAY_PORT',
    default: '`8080`',
    description: 'The gateway port. `0`: a free port, chosen on the first `up` and kept after.',
  },
  {
    name: 'TURNPIKE_PORT_BASE',
    default: '`18000`',
    description:
      'First of the other fixed ports: Kafka on base, its controller base+1, Postgres base+2, router, connector, billing, analytics base+10..13, the simulators from base+20. `0`: free ports, chosen on the first `up` and kept after.',
  },
  {
    name: 'TURNPIKE_ADMIN_TOKEN',
    default: 'made on the first `up`, kept in `<state dir>/admin-token`',
    description: 'The operator token of `/admin/*` (at least 16 characters).',
  },
];

/** Wired by `up` itself: a value for them from the surface is refused. */
export const MANAGED_SETTINGS = new Set([
  'KAFKA_BROKERS',
  'DATABASE_URL',
  'HTTP_HOST',
  'HTTP_PORT',
  'INSTANCE_ID',
  'GATEWAY_ADMIN_TOKEN',
  'GATEWAY_REPLICAS',
  'GATEWAY_REPLY_PARTITION',
  'CONNECTOR_MASTER_KEY',
  'CONNECTOR_MASTER_KEY_FILE',
]);

export const DEFAULT_GATEWAY_PORT = 8080;
export const DEFAULT_PORT_BASE = 18000;
const SERVICE_OFFSETS: Record<string, number> = {
  'router-1': 10,
  'connector-1': 11,
  'billing-1': 12,
  'analytics-1': 13,
};

export interface LocalConfig {
  bind: string;
  /** null: a free port (chosen once, then kept). */
  gatewayPort: number | null;
  portBase: number | null;
  adminToken?: string;
  /** Settings for every service (`OTEL_*`). */
  shared: Record<string, string>;
  /** Each service's own settings. */
  perService: Partial<Record<ConfiguredProcess, Record<string, string>>>;
  /** Provider accounts to add to the simulators' (CONNECTOR_PROVIDERS[_FILE]). */
  providers: Record<string, { kind: string } & Record<string, unknown>>;
  problems: string[];
}

/** `KEY=value` lines (optionally `export`ed, single- or double-quoted); `#` starts a comment line. */
export function parseEnvText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2]!.trim();
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2)
      v = v.slice(1, -1).replace(/'\\''/g, "'");
    else if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

const portOf = (name: string, v: string, problems: string[]): number | null => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) {
    problems.push(`${name}: not a port (${v})`);
    return null;
  }
  return n === 0 ? null : n;
};

/**
 * The surface resolved: `file` (the config file's variables) and `env` (the process's), against
 * `settings` (each process's variables, from its config class).
 */
export function resolveLocalConfig(
  file: Record<string, string>,
  env: Record<string, string | undefined>,
  settings: Record<ConfiguredProcess, Record<string, unknown>>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): LocalConfig {
  const problems: string[] = [];
  const own = new Set(LOCAL_SETTINGS.map((s) => s.name));
  const services = (['gateway', 'router', 'connector', 'billing', 'analytics'] as const).filter(
    (s) => s in settings,
  );
  const isSetting = (name: string) =>
    own.has(name) || isForeignSetting(name) || services.some((s) => name in settings[s]);
  for (const name of Object.keys(file))
    if (!isSetting(name))
      problems.push(`${name}: no such setting (see docs/configuration.md for every setting)`);
  const merged: Record<string, string> = { ...file };
  for (const [name, v] of Object.entries(env))
    if (v !== undefined && isSetting(name)) merged[name] = v;

  const cfg: LocalConfig = {
    bind: merged['TURNPIKE_BIND'] || '127.0.0.1',
    gatewayPort: DEFAULT_GATEWAY_PORT,
    portBase: DEFAULT_PORT_BASE,
    shared: {},
    perService: {},
    providers: {},
    problems,
  };
  if (merged['TURNPIKE_GATEWAY_PORT'] !== undefined)
    cfg.gatewayPort = portOf('TURNPIKE_GATEWAY_PORT', merged['TURNPIKE_GATEWAY_PORT'], problems);
  if (merged['TURNPIKE_PORT_BASE'] !== undefined) {
    cfg.portBase = portOf('TURNPIKE_PORT_BASE', merged['TURNPIKE_PORT_BASE'], problems);
    if (cfg.portBase !== null && cfg.portBase + 40 > 65535)
      problems.push('TURNPIKE_PORT_BASE: leave 40 ports above it');
  }
  const token = merged['TURNPIKE_ADMIN_TOKEN'];
  if (token !== undefined) {
    if (token.length < 16) problems.push('TURNPIKE_ADMIN_TOKEN: at least 16 characters');
    else cfg.adminToken = token;
  }

  for (const [name, v] of Object.entries(merged)) {
    if (own.has(name) || name === 'NODE_ENV' || name === 'NODE_OPTIONS') continue;
    if (MANAGED_SETTINGS.has(name)) {
      if (name in file) problems.push(`${name}: set by npm run up itself`);
      continue;
    }
    if (name === 'CONNECTOR_PROVIDERS' || name === 'CONNECTOR_PROVIDERS_FILE') continue;
    if (name.startsWith('OTEL_')) {
      if (name !== 'OTEL_SERVICE_NAME') cfg.shared[name] = v;
      continue;
    }
    for (const s of services) if (name in settings[s]) (cfg.perService[s] ??= {})[name] = v;
  }

  const accounts = (label: string, text: string) => {
    try {
      const json = JSON.parse(text) as unknown;
      if (json === null || typeof json !== 'object' || Array.isArray(json))
        throw new Error('not an object');
      for (const [id, a] of Object.entries(json as Record<string, unknown>)) {
        if (
          a === null ||
          typeof a !== 'object' ||
          typeof (a as { kind?: unknown }).kind !== 'string'
        )
          problems.push(`${label}: ${id}: an account needs a kind`);
        else cfg.providers[id] = a as { kind: string } & Record<string, unknown>;
      }
    } catch (e) {
      // Never the text: it holds keys.
      problems.push(`${label}: not a JSON object of accounts (${(e as Error).name})`);
    }
  };
  if (merged['CONNECTOR_PROVIDERS_FILE'] !== undefined) {
    let text: string | null = null;
    try {
      text = readFile(merged['CONNECTOR_PROVIDERS_FILE']);
    } catch (e) {
      problems.push(
        `CONNECTOR_PROVIDERS_FILE: cannot read ${merged['CONNECTOR_PROVIDERS_FILE']} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (text !== null) accounts('CONNECTOR_PROVIDERS_FILE', text);
  }
  if (merged['CONNECTOR_PROVIDERS'] !== undefined)
    accounts('CONNECTOR_PROVIDERS', merged['CONNECTOR_PROVIDERS']);
  return cfg;
}

/**
 * The fixed ports by role for `startPlatform` (`kafka`, `kafka-controller`, `postgres`,
 * `simulator-<id>`, `<instance>`): the ones chosen before (`kept`, from the state dir) unless a
 * setting names a port; a role left out gets a free port.
 */
export function portPlan(
  cfg: Pick<LocalConfig, 'gatewayPort' | 'portBase'>,
  explicit: { gateway: boolean; base: boolean },
  simulatorIds: string[],
  kept: Record<string, number>,
): Record<string, number> {
  const plan: Record<string, number> = {};
  const base = cfg.portBase;
  const others: Record<string, number> = {};
  if (base !== null) {
    others['kafka'] = base;
    others['kafka-controller'] = base + 1;
    others['postgres'] = base + 2;
    for (const [instance, offset] of Object.entries(SERVICE_OFFSETS))
      others[instance] = base + offset;
    simulatorIds.forEach((id, i) => (others[`simulator-${id}`] = base + 20 + i));
  }
  const roles = new Set([...Object.keys(others), ...Object.keys(kept), 'gateway-1']);
  for (const role of roles) {
    if (role === 'gateway-1') {
      const fixed = cfg.gatewayPort;
      const p = explicit.gateway && fixed !== null ? fixed : (kept[role] ?? fixed ?? undefined);
      if (p !== undefined) plan[role] = p;
      continue;
    }
    const p = explicit.base && base !== null ? others[role] : (kept[role] ?? others[role]);
    if (p !== undefined) plan[role] = p;
  }
  return plan;
}

/** The config file `up` writes when there is none: every own setting, commented out. */
export function configTemplate(): string {
  const lines = [
    '# npm run up: settings (KEY=value). The environment wins over this file.',
    "# Any service's setting goes here too (docs/configuration.md lists them all), e.g.",
    '#   LOG_LEVEL=debug',
    '#   OTEL_TRACES_EXPORTER=otlp',
    '#   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318',
    '#   CONNECTOR_PROVIDERS_FILE=/path/to/providers.json   # real provider accounts',
    '',
  ];
  for (const s of LOCAL_SETTINGS) {
    if (s.name === 'TURNPIKE_CONFIG' || s.name === 'TURNPIKE_STATE_DIR') continue;
    lines.push(`# ${s.description.replace(/`/g, '')}`, `# ${s.name}=`, '');
  }
  return lines.join('\n');
}

export function readConfigFile(file: string): Record<string, string> {
  return existsSync(file) ? parseEnvText(readFileSync(file, 'utf8')) : {};
}
