/**
 * Failures below HTTP: the connection was refused, reset or timed out, the name did not resolve,
 * TLS failed. The system's message names the upstream's address ("connect ECONNREFUSED
 * 10.0.0.7:443"), so the client gets a fixed message per kind, chosen by the error's code
 * (Node's `E...`, OpenSSL's, or undici's `UND_ERR_...`), and the message goes to the operators.
 */
import { UPSTREAM_ERROR_CODES as CODES } from '@turnpike/contracts';
import { connectorError, serverReply, UpstreamError } from './policy.js';

type TransportKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'tls' | 'unreachable' | 'other';

const BY_CODE: Record<string, TransportKind> = {
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  ECONNABORTED: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  UND_ERR_DESTROYED: 'reset',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NONAME: 'dns',
  EAI_NODATA: 'dns',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  EPROTO: 'tls',
  UND_ERR_PRX_TLS: 'tls',
};

const TLS_CODE =
  /^(?:CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

const MESSAGES: Record<Exclude<TransportKind, 'timeout'>, string> = {
  refused: 'The upstream provider refused the connection.',
  reset: 'The connection to the upstream provider was closed unexpectedly.',
  dns: "The upstream provider's host name could not be resolved.",
  tls: 'The secure (TLS) connection to the upstream provider failed.',
  unreachable: 'The upstream provider is unreachable from the gateway.',
  other: 'The connection to the upstream provider failed.',
};

/** Every `code` on the error, its causes and, for an AggregateError, its errors; outermost first. */
export function errorCodes(e: unknown, depth = 0): string[] {
  if (typeof e !== 'object' || e === null || depth > 5) return [];
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof o.code === 'string' && o.code !== '' ? [o.code] : [];
  const nested = [
    ...errorCodes(o.cause, depth + 1),
    ...(Array.isArray(o.errors) ? o.errors.flatMap((x) => errorCodes(x, depth + 1)) : []),
  ];
  return [...new Set([...own, ...nested])];
}

function kindOf(codes: string[]): TransportKind | null {
  if (codes.length === 0) return null;
  // The most specific first: a socket error whose cause is ECONNREFUSED is a refusal.
  for (const want of ['timeout', 'tls', 'dns', 'refused', 'unreachable', 'reset'] as const) {
    if (codes.some((c) => BY_CODE[c] === want || (want === 'tls' && TLS_CODE.test(c)))) return want;
  }
  return 'other';
}

/**
 * A failure of the connection to the upstream (no HTTP answer, or an answer cut off). An error
 * without any code is not a network failure but our own bug: `connectorError`.
 */
export function transportError(e: unknown): UpstreamError {
  const codes = errorCodes(e);
  const kind = kindOf(codes);
  if (kind === null) return connectorError(e);
  return new UpstreamError(
    kind === 'timeout'
      ? serverReply(504, CODES.deadline, 'The upstream provider did not answer in time.')
      : serverReply(502, CODES.connection, MESSAGES[kind]),
    {
      upstreamStatus: null,
      providerCode: codes.join(','),
      providerType: null,
      providerMessage: e instanceof Error ? e.message.slice(0, 2000) : String(e).slice(0, 2000),
    },
  );
}
