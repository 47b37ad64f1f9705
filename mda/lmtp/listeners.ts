/*
 * Binds the listeners of a Dovecot `service <name> { unix_listener … inet_listener … }` block:
 * Unix sockets (path relative to base_dir unless absolute; a stale socket file is replaced,
 * never another kind of file; mode/user/group applied right after bind, as Dovecot's master
 * does) and TCP sockets (`address` or the global `listen`, `port = 0` disables one). Returns plain
 * net.Server objects that are not yet serving, so the caller can bind as root, drop privileges,
 * and only then attach connection handlers.
 *
 * Only root can give a socket away: started as another user (the demo, tests) the daemon keeps its
 * sockets as its own and only applies the mode.
 * Distrusts the configuration: unknown users/groups and a non-socket file at the path are errors.
 */
import { createServer, type Server } from 'node:net';
import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { resolveGid, resolveUid } from '../auth/sysusers.js';

export interface UnixListenerSpec {
  readonly path: string;
  readonly mode: number;
  readonly user: string;
  readonly group: string;
}

export interface InetListenerSpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface BoundListener {
  readonly server: Server;
  readonly transport: 'unix' | 'tcp';
  /** Socket path or `address:port`. */
  readonly where: string;
}

export function socketPath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : join(baseDir, path);
}

async function replaceStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new Error(`${path}: exists and is not a socket`);
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function listen(server: Server, arg: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof arg === 'string') server.listen(arg, done);
    else server.listen(arg.port, arg.host, done);
  });
}

export async function bindUnix(spec: UnixListenerSpec): Promise<BoundListener> {
  await mkdir(dirname(spec.path), { recursive: true, mode: 0o755 });
  await replaceStaleSocket(spec.path);
  const root = process.getuid?.() === 0;
  const uid = root && spec.user !== '' ? resolveUid(spec.user) : undefined;
  const gid = root && spec.group !== '' ? resolveGid(spec.group) : undefined;
  if (root && ((spec.user !== '' && uid === undefined) || (spec.group !== '' && gid === undefined))) {
    throw new Error(`${spec.path}: unknown user or group ${spec.user}:${spec.group}`);
  }
  const server = createServer({ pauseOnConnect: false });
  await listen(server, spec.path);
  if (uid !== undefined || gid !== undefined) await chown(spec.path, uid !== undefined ? Number(uid) : -1, gid !== undefined ? Number(gid) : -1);
  await chmod(spec.path, spec.mode);
  return { server, transport: 'unix', where: spec.path };
}

export async function bindInet(spec: InetListenerSpec): Promise<BoundListener[]> {
  const out: BoundListener[] = [];
  for (const raw of spec.address.split(/[\s,]+/).filter((a) => a !== '')) {
    const host = raw === '*' ? '0.0.0.0' : raw === '[::]' ? '::' : raw.replace(/^\[(.*)\]$/, '$1');
    const server = createServer();
    try {
      await listen(server, { host, port: spec.port });
    } catch (err) {
      // `listen = *, ::` on a host without IPv6 (or with IPv6 covering IPv4) still works.
      if (host === '::' && out.length > 0) continue;
      throw err;
    }
    const a = server.address();
    out.push({ server, transport: 'tcp', where: typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : `${host}:${spec.port}` });
  }
  return out;
}

export async function closeListener(l: BoundListener): Promise<void> {
  await new Promise<void>((r) => l.server.close(() => r()));
  if (l.transport === 'unix') await unlink(l.where).catch(() => undefined);
}
