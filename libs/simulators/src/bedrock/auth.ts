/**
 * SigV4 verification, as AWS's front end does it for bedrock-runtime: the simulator knows one
 * access key id and its secret (`apiKey`), recomputes the signature of the request it received
 * (method, path as sent, query, the signed headers' values, the body's SHA-256, the time and the
 * credential scope) and answers AWS's own 403s: an unknown key, a signature that does not match
 * (quoting the canonical request and string to sign it expected, as AWS does), a request signed
 * more than five minutes away from now, a scope for another service.
 */
import { headerLists, type Exchange } from '../core/http-util.js';
import type { SimContext } from '../core/protocol.js';
import {
  amzDate,
  canonicalHeaderMap,
  canonicalRequest,
  credentialScope,
  parseAmzDate,
  parseAuthorization,
  payloadHash,
  signatureOf,
  signaturesEqual,
  stringToSign,
} from '@turnpike/providers';
import { awsError, errors } from './errors.js';

/** The access key id of a Bedrock simulator unless configured (`accessKeyId`). */
export const SIM_AWS_ACCESS_KEY_ID = 'AKIASIMULATORBEDROCK';
/** The signing name of bedrock-runtime. */
export const SIGNING_SERVICE = 'bedrock';
/** How far a request's time may be from the server's. */
export const MAX_SKEW_MS = 5 * 60_000;

const header = (ex: Exchange, name: string): string | undefined => {
  const v = ex.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Throws AWS's 403 unless the request is signed with the simulator's key. */
export function verifySigV4(
  ctx: SimContext,
  ex: Exchange,
  rawBody: Buffer,
  now = Date.now(),
): void {
  const secret = ctx.apiKey;
  if (!secret) return; // no credentials configured: an open simulator
  const authorization = header(ex, 'authorization');
  if (!authorization) throw errors.missingAuth();
  const auth = parseAuthorization(authorization);
  if (!auth)
    throw errors.incompleteSignature(
      `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${authorization.split(' ')[0] ?? ''}`,
    );
  if (auth.accessKeyId !== (ctx.accessKeyId ?? SIM_AWS_ACCESS_KEY_ID))
    throw errors.unrecognizedClient();
  const time = header(ex, 'x-amz-date') ?? '';
  const date = parseAmzDate(time);
  if (!date)
    throw errors.incompleteSignature(
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  if (date.getTime() < now - MAX_SKEW_MS)
    throw errors.invalidSignature(
      `Signature expired: ${time} is now earlier than ${amzDate(new Date(now - MAX_SKEW_MS))} (${amzDate(new Date(now))} - 5 min.)`,
    );
  if (date.getTime() > now + MAX_SKEW_MS)
    throw errors.invalidSignature(
      `Signature not yet current: ${time} is still later than ${amzDate(new Date(now + MAX_SKEW_MS))} (${amzDate(new Date(now))} + 5 min.)`,
    );
  if (auth.date !== time.slice(0, 8))
    throw errors.invalidSignature(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${time.slice(0, 8)}', from '${time}'.`,
    );
  if (auth.service !== SIGNING_SERVICE || auth.terminator !== 'aws4_request')
    throw errors.invalidSignature(
      `Credential should be scoped to correct service: '${SIGNING_SERVICE}'. `,
    );
  if (!auth.signedHeaders.includes('host') && !auth.signedHeaders.includes(':authority'))
    throw errors.invalidSignature(
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  const bodyHash = payloadHash(rawBody);
  const claimed = header(ex, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== bodyHash)
    throw awsError(
      400,
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  // The values of the signed headers as received (repeated headers joined by `,`); over HTTP/2
  // the host is the `:authority`.
  const lists = headerLists(ex.req);
  const received: Record<string, string[]> = {};
  for (const name of auth.signedHeaders) {
    const v =
      lists[name] ??
      (name === 'host' ? lists[':authority'] : name === ':authority' ? lists['host'] : undefined);
    if (v) received[name] = v;
  }
  const target = ex.req.url ?? '/';
  const q = target.indexOf('?');
  const canonical = canonicalRequest({
    method: ex.method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    headers: canonicalHeaderMap(received),
    signedHeaders: auth.signedHeaders,
    payloadHash: bodyHash,
    normalizePath: true,
  });
  const toSign = stringToSign(
    time,
    credentialScope(auth.date, auth.region, auth.service),
    canonical,
  );
  // Any secret the simulator accepts right now (a rotation is a moment when two are valid).
  const secrets = ctx.apiKeys.length > 0 ? ctx.apiKeys : [secret];
  const signed = secrets.some((k) =>
    signaturesEqual(signatureOf(k, time, auth.region, auth.service, toSign), auth.signature),
  );
  if (!signed)
    throw errors.invalidSignature(
      `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${toSign}'\n`,
    );
}
