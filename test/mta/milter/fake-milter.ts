/*
 * A scripted fake milter for tests: listens on 127.0.0.1 (or a Unix socket), records every command
 * packet it receives per connection, and answers with what the script returns. MACRO, ABORT, QUIT
 * and QUIT_NC get no reply (as libmilter); OPTNEG is answered with the configured negotiation.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { decodeCommand, encodeReply, PacketReader, SMFIF_ALL, type MilterCommand, type MilterReply } from '../../../mta/milter/codec.js';

export interface FakeMilterOptions {
  version?: number;
  actions?: number;
  protocol?: number;
  symlists?: Array<{ stage: number; macros: string }>;
  /** Replies for a command; default: CONTINUE. Return [] to send nothing. */
  script?: (c: MilterCommand, conn: number) => MilterReply[] | 'close' | 'hang';
  unix?: string;
}

export interface FakeMilter {
  readonly spec: string;
  readonly port: number;
  /** Commands per connection, in arrival order. */
  readonly connections: MilterCommand[][];
  /** Resolves when n connections have closed. */
  closed(n: number): Promise<void>;
  close(): Promise<void>;
}

const NO_REPLY = new Set(['macro', 'abort', 'quit', 'quit_nc']);

export async function startFakeMilter(t: TestContext | undefined, o: FakeMilterOptions = {}): Promise<FakeMilter> {
  const connections: MilterCommand[][] = [];
  let closedCount = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    const idx = connections.length;
    const log: MilterCommand[] = [];
    connections.push(log);
    const reader = new PacketReader(1 << 24);
    sock.on('data', (chunk) => {
      reader.push(chunk);
      for (let p = reader.next(); p; p = reader.next()) {
        const c = decodeCommand(p);
        log.push(c);
        if (c.kind === 'optneg') {
          sock.write(encodeReply({ kind: 'optneg', version: o.version ?? 6, actions: o.actions ?? SMFIF_ALL, protocol: o.protocol ?? 0, symlists: o.symlists ?? [] }));
          continue;
        }
        const out = o.script ? o.script(c, idx) : NO_REPLY.has(c.kind) ? [] : [{ kind: 'continue' } as MilterReply];
        if (out === 'close') {
          sock.destroy();
          return;
        }
        if (out === 'hang') continue;
        for (const r of out) sock.write(encodeReply(r));
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      sockets.delete(sock);
      closedCount++;
      for (const w of waiters.splice(0)) {
        if (closedCount >= w.n) w.resolve();
        else waiters.push(w);
      }
    });
  });
  await new Promise<void>((resolve) => (o.unix ? server.listen(o.unix, resolve) : server.listen(0, '127.0.0.1', resolve)));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.after(close);
  return {
    spec: o.unix ? `unix:${o.unix}` : `inet:127.0.0.1:${port}`,
    port,
    connections,
    closed: (n) => (closedCount >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    close,
  };
}

/** Continue for everything that expects a reply; nothing for the rest. */
export function continueAll(c: MilterCommand): MilterReply[] {
  return NO_REPLY.has(c.kind) ? [] : [{ kind: 'continue' }];
}
