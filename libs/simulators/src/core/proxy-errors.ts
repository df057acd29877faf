import { STATUS_CODES } from 'node:http';
import type { RawErrorBody } from './sim-error.js';
import type { ErrorBodyMode } from './types.js';

/**
 * What a proxy in front of any upstream answers with `status` (the `body` knob): Apache's page,
 * which names the server's address, or Envoy's plain text. The same whatever the protocol.
 */
export function proxyErrorBody(
  status: number,
  mode: ErrorBodyMode,
  server = '127.0.0.1:80',
): RawErrorBody {
  const reason = STATUS_CODES[status] ?? 'Error';
  if (mode === 'text')
    return {
      contentType: 'text/plain',
      text: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    };
  const colon = server.lastIndexOf(':');
  const [host, port] =
    colon < 0 ? [server, '80'] : [server.slice(0, colon), server.slice(colon + 1)];
  return {
    contentType: 'text/html; charset=iso-8859-1',
    text:
      `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>${status} ${reason}</title>\n` +
      `</head><body>\n<h1>${reason}</h1>\n<p>The proxy server received an invalid\r\nresponse from an upstream server.<br />\n</p>\n` +
      `<hr>\n<address>Apache/2.4.58 (Ubuntu) Server at ${host} Port ${port}</address>\n</body></html>\n`,
  };
}
