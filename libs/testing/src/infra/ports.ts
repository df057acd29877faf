import net from 'node:net';

function listenOnce(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: net.Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('freePort: unexpected server address');
  }
  return address.port;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (bind to :0, read it, close). */
export async function freePort(): Promise<number> {
  const server = await listenOnce();
  const port = portOf(server);
  await closeServer(server);
  return port;
}

/**
 * `n` distinct free ports. All listeners are held open until every port has been
 * read, so the kernel cannot hand out the same port twice within one call.
 */
export async function freePorts(n: number): Promise<number[]> {
  if (!Number.isInteger(n) || n < 0) throw new Error(`freePorts: invalid count ${n}`);
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenOnce());
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}
