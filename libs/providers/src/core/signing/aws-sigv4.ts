/**
 * AWS Signature Version 4 (header form), pure `node:crypto`: what Bedrock (and every AWS JSON
 * service) authenticates with. Used by the Bedrock adapter to sign and by the Bedrock simulator
 * to verify. The steps, as AWS documents them:
 *
 * 1. the canonical request: method, canonical URI, canonical query, canonical headers (lower-case
 *    names, values trimmed and inner whitespace collapsed, duplicates joined by `,`, sorted),
 *    the signed header names, and the hex SHA-256 of the body;
 * 2. the string to sign: `AWS4-HMAC-SHA256`, the time (`YYYYMMDDTHHMMSSZ`), the credential scope
 *    `date/region/service/aws4_request`, and the hex SHA-256 of the canonical request;
 * 3. the signing key: HMAC chain `AWS4<secret>` → date → region → service → `aws4_request`;
 * 4. the signature: hex HMAC of the string to sign under that key, sent in `Authorization`.
 *
 * The canonical URI is the path as sent on the wire, URI-encoded once more: for every service
 * but S3 SigV4 double-encodes, so Bedrock's `/model/a.b-v1%3A0/converse` is signed as
 * `/model/a.b-v1%253A0/converse`. With `normalizePath` (every service but S3), empty and `.`
 * segments are dropped and `..` resolved first.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export interface AwsSigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' session token: sent (and signed) as `x-amz-security-token`. */
  sessionToken?: string | undefined;
}

/** One HTTP request as the signer sees it. */
export interface SignableRequest {
  method: string;
  /** The path as sent on the wire (already percent-encoded where the protocol encodes). */
  path: string;
  /** The raw query string without `?` ('' when none). */
  query?: string;
  /** Header names in any case; a list is one header sent several times. */
  headers: Readonly<Record<string, string | readonly string[]>>;
  body: string | Uint8Array;
}

export interface SigningScope {
  region: string;
  /** The signing name of the service (`bedrock` for bedrock-runtime). */
  service: string;
  now: Date;
  /** Drop empty and `.` segments and resolve `..` (true for every service but S3). */
  normalizePath?: boolean;
  /** Also send and sign `x-amz-content-sha256` (the body's hash), as the AWS SDKs do. */
  signBody?: boolean;
}

export interface SignedRequest {
  /** The headers to add to the request: `x-amz-date`, `authorization`, and the others signed. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const sha256Hex = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('hex');

const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** `2015-08-30T12:36:00.000Z` → `20150830T123600Z`. */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** `20150830T123600Z` → the Date, or null when it is not that format. */
export function parseAmzDate(s: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  const t = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!);
  return Number.isNaN(t) ? null : new Date(t);
}

/** RFC 3986 encoding of everything but the unreserved characters (`A-Za-z0-9-._~`). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The canonical URI of a wire path (see the module comment). */
export function canonicalUri(path: string, normalize = true): string {
  const p = path === '' ? '/' : path;
  let segments = p.split('/');
  if (normalize) {
    const out: string[] = [];
    for (const s of segments) {
      if (s === '' || s === '.') continue;
      if (s === '..') out.pop();
      else out.push(s);
    }
    const trailing = out.length > 0 && p.endsWith('/');
    return `/${out.map(uriEncode).join('/')}${trailing ? '/' : ''}`;
  }
  segments = segments.map(uriEncode);
  return segments.join('/');
}

const decodeQueryPart = (s: string): string => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

/** The canonical query: parameters decoded, re-encoded strictly, sorted by name then value. */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? '' : p.slice(eq + 1);
      return [uriEncode(decodeQueryPart(k)), uriEncode(decodeQueryPart(v))] as const;
    });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** A header value in canonical form: trimmed, runs of whitespace (folded lines too) as one space. */
const canonicalValue = (v: string): string => v.trim().replace(/\s+/g, ' ');

/** Lower-cased names → the canonical value (repeated headers joined by `,`). */
export function canonicalHeaderMap(
  headers: Readonly<Record<string, string | readonly string[]>>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, raw] of Object.entries(headers)) {
    const key = name.toLowerCase();
    const values = (typeof raw === 'string' ? [raw] : raw).map(canonicalValue);
    const prev = out.get(key);
    out.set(key, prev === undefined ? values.join(',') : [prev, ...values].join(','));
  }
  return out;
}

/** The credential scope `date/region/service/aws4_request`. */
export const credentialScope = (date: string, region: string, service: string): string =>
  `${date}/${region}/${service}/aws4_request`;

/** The signing key of a day, region and service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

export interface CanonicalParts {
  method: string;
  path: string;
  query: string;
  /** Canonical header map (lower-case names). */
  headers: ReadonlyMap<string, string>;
  /** The names to sign, lower-case. */
  signedHeaders: readonly string[];
  payloadHash: string;
  normalizePath: boolean;
}

/** Step 1: the canonical request. */
export function canonicalRequest(p: CanonicalParts): string {
  const names = [...p.signedHeaders].sort();
  return [
    p.method.toUpperCase(),
    canonicalUri(p.path, p.normalizePath),
    canonicalQuery(p.query),
    ...names.map((n) => `${n}:${p.headers.get(n) ?? ''}`),
    '',
    names.join(';'),
    p.payloadHash,
  ].join('\n');
}

/** Step 2: the string to sign. */
export function stringToSign(time: string, scope: string, canonical: string): string {
  return [SIGV4_ALGORITHM, time, scope, sha256Hex(canonical)].join('\n');
}

/** Steps 3 and 4: the hex signature. */
export function signatureOf(
  secret: string,
  time: string,
  region: string,
  service: string,
  toSign: string,
): string {
  return createHmac('sha256', signingKey(secret, time.slice(0, 8), region, service))
    .update(toSign, 'utf8')
    .digest('hex');
}

/** The hex SHA-256 of a body (the canonical request's payload hash). */
export const payloadHash = (body: string | Uint8Array): string => sha256Hex(body);

/**
 * Signs a request: every header it carries is signed (so a proxy cannot change one unnoticed),
 * plus `x-amz-date`, the session token and, with `signBody`, `x-amz-content-sha256`. `host`
 * must be among the headers (HTTP clients send it from the URL; pass the same value).
 */
export function signRequest(
  req: SignableRequest,
  credentials: AwsSigningCredentials,
  scope: SigningScope,
): SignedRequest {
  const time = amzDate(scope.now);
  const bodyHash = payloadHash(req.body);
  const added: Record<string, string> = { 'x-amz-date': time };
  if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;
  if (scope.signBody) added['x-amz-content-sha256'] = bodyHash;
  const headers = canonicalHeaderMap({ ...req.headers, ...added });
  if (!headers.has('host')) throw new Error('SigV4: the host header must be signed');
  const signedHeaders = [...headers.keys()].sort();
  const canonical = canonicalRequest({
    method: req.method,
    path: req.path,
    query: req.query ?? '',
    headers,
    signedHeaders,
    payloadHash: bodyHash,
    normalizePath: scope.normalizePath ?? true,
  });
  const credScope = credentialScope(time.slice(0, 8), scope.region, scope.service);
  const toSign = stringToSign(time, credScope, canonical);
  const signature = signatureOf(
    credentials.secretAccessKey,
    time,
    scope.region,
    scope.service,
    toSign,
  );
  return {
    headers: {
      ...added,
      authorization: `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${credScope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
    },
    canonicalRequest: canonical,
    stringToSign: toSign,
    signature,
  };
}

/** The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses a SigV4 `Authorization` header; null when it is not one. */
export function parseAuthorization(header: string): ParsedAuthorization | null {
  const h = header.trim();
  if (!h.startsWith(`${SIGV4_ALGORITHM} `)) return null;
  const fields = new Map<string, string>();
  for (const part of h.slice(SIGV4_ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signed || !signature) return null;
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) return null;
  const [accessKeyId, date, region, service, terminator] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: signed.split(';').map((s) => s.toLowerCase()),
    signature: signature.toLowerCase(),
  };
}

/** Compares two hex signatures in constant time. */
export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
