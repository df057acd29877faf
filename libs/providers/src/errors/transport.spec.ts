import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorCodes, transportError } from './transport.js';

const sysError = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code, ...extra });

describe('transportError', () => {
  // [what, the error, client status, client code, a message pattern]
  const cases: [string, unknown, number, string, RegExp][] = [
    [
      'refused',
      sysError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.3.7:4321', {
        address: '10.0.3.7',
        port: 4321,
      }),
      502,
      'upstream_connection_error',
      /refused the connection/,
    ],
    [
      'refused on every address (happy eyeballs)',
      Object.assign(
        new AggregateError(
          [
            sysError('ECONNREFUSED', 'connect ECONNREFUSED ::1:4321'),
            sysError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4321'),
          ],
          '',
        ),
        { code: 'ECONNREFUSED' },
      ),
      502,
      'upstream_connection_error',
      /refused the connection/,
    ],
    [
      "undici's socket error, reset by the peer",
      Object.assign(sysError('UND_ERR_SOCKET', 'other side closed'), {
        cause: sysError('ECONNRESET', 'read ECONNRESET'),
      }),
      502,
      'upstream_connection_error',
      /closed unexpectedly/,
    ],
    [
      'a broken pipe',
      sysError('EPIPE', 'write EPIPE'),
      502,
      'upstream_connection_error',
      /closed unexpectedly/,
    ],
    [
      'DNS',
      sysError('ENOTFOUND', 'getaddrinfo ENOTFOUND llm.internal.corp', {
        hostname: 'llm.internal.corp',
      }),
      502,
      'upstream_connection_error',
      /host name could not be resolved/,
    ],
    [
      'DNS, temporary',
      sysError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN x.lan'),
      502,
      'upstream_connection_error',
      /resolved/,
    ],
    [
      'an expired certificate',
      sysError('CERT_HAS_EXPIRED', 'certificate has expired'),
      502,
      'upstream_connection_error',
      /TLS/,
    ],
    [
      'a certificate for another host',
      sysError(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: x.example. is not in the cert's altnames",
      ),
      502,
      'upstream_connection_error',
      /TLS/,
    ],
    [
      'a self-signed certificate',
      sysError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self signed certificate'),
      502,
      'upstream_connection_error',
      /TLS/,
    ],
    [
      'an unreachable host',
      sysError('EHOSTUNREACH', 'connect EHOSTUNREACH 10.9.9.9:443'),
      502,
      'upstream_connection_error',
      /unreachable/,
    ],
    [
      'a connect timeout',
      sysError(
        'UND_ERR_CONNECT_TIMEOUT',
        'Connect Timeout Error (attempted address: 10.0.0.1:443, timeout: 5000ms)',
      ),
      504,
      'timeout',
      /did not answer in time/,
    ],
    [
      'a header timeout',
      sysError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'),
      504,
      'timeout',
      /in time/,
    ],
    [
      'an idle stream',
      sysError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'),
      504,
      'timeout',
      /in time/,
    ],
    [
      'a system timeout',
      sysError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443'),
      504,
      'timeout',
      /in time/,
    ],
    [
      'another coded failure',
      sysError('UND_ERR_HEADERS_OVERFLOW', 'Headers Overflow Error'),
      502,
      'upstream_connection_error',
      /connection to the upstream provider failed/,
    ],
  ];
  for (const [what, e, status, code, message] of cases) {
    test(what, () => {
      const failure = transportError(e);
      assert.equal(failure.reply.status, status);
      assert.equal(failure.reply.code, code);
      assert.equal(failure.reply.retryable, true);
      assert.equal(failure.reply.upstreamStatus, null);
      assert.match(failure.reply.message, message);
      const seen = JSON.stringify(failure.reply);
      for (const piece of [
        '10.0',
        '10.9',
        '127.0.0.1',
        '::1',
        '4321',
        'internal',
        'x.lan',
        'x.example',
      ])
        assert.ok(!seen.includes(piece), `${piece} in ${seen}`);
      assert.ok(
        !/\bE[A-Z]{3,}|UND_ERR|CERT_|ERR_TLS/.test(failure.reply.message),
        failure.reply.message,
      );
      // Operators keep the system's words and codes.
      assert.ok(failure.detail.providerCode!.length > 0);
      assert.equal(failure.detail.providerMessage, (e as Error).message);
    });
  }

  test('an error without any code is our bug, not the network', () => {
    const failure = transportError(
      new TypeError("Cannot read properties of undefined (reading 'x')"),
    );
    assert.equal(failure.reply.code, 'connector_error');
    assert.ok(!failure.reply.message.includes('Cannot read'));
    assert.match(failure.detail.providerMessage!, /TypeError: Cannot read/);
  });

  test('errorCodes walks causes and aggregated errors, without repeats', () => {
    const e = Object.assign(new Error('x'), {
      code: 'UND_ERR_SOCKET',
      cause: new AggregateError([sysError('ECONNRESET', 'a'), sysError('ECONNRESET', 'b')]),
    });
    assert.deepEqual(errorCodes(e), ['UND_ERR_SOCKET', 'ECONNRESET']);
    assert.deepEqual(errorCodes('text'), []);
    assert.deepEqual(errorCodes(null), []);
  });
});
