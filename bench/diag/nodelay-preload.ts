/*
 * Diagnostic only (never used for the reported figures unless BENCH_OURS_NODE_ARGS names it):
 * loaded with `node --import` into our daemon, it turns Nagle's algorithm off on every accepted TCP
 * socket, to measure what the IMAP server loses by writing a response in several small writes
 * without TCP_NODELAY (each tagged reply then waits for the client's delayed ACK, about 40 ms).
 */
import { Server, type Socket } from 'node:net';

type Emit = (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
const emit = Server.prototype.emit as Emit;
const patched: Emit = function (event, ...args) {
  if (event === 'connection') (args[0] as Socket).setNoDelay?.(true);
  return emit.call(this, event, ...args);
};
Server.prototype.emit = patched as typeof Server.prototype.emit;
