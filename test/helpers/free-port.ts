/*
 * Free TCP ports for tests: bind port 0 on the loopback address, read the port the kernel chose,
 * close. A tiny race remains (another process may take the port before the test binds it); the
 * kernel does not hand the same ephemeral port out again soon, which is enough for tests.
 */
import { createServer } from 'node:net';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * Runs `attempt` (which picks its ports with freePort and starts a daemon on them) again when the
 * daemon could not bind: under `--test-concurrency=2` another test process can be handed the same
 * port between freePort's close and the daemon's listen (seen once in a few hundred runs).
 */
export async function retryOnAddrInUse<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}
