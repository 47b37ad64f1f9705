/*
 * Codec for Dovecot's auth-master protocol 1.x as spoken on the auth-userdb and auth-master
 * sockets (auth-master-connection.c / lib-auth auth-master.c): LDA, LMTP, doveadm and mail
 * processes look users up here.
 *
 * Client → server: VERSION 1 0, CPID, USER <id> <user> [params], PASS <id> <user> [params],
 * LIST <id> [user=<mask>] [params], REQUEST <id> <pid> <cuid> <cookie> [params].
 * Server → client: VERSION 1 1, SPID, USER <id> <user> [fields], PASS <id> [fields],
 * NOTFOUND <id>, FAIL <id> [reason=…], LIST <id> <user>, DONE <id> ["fail"].
 *
 * Distrusts every line: malformed known commands throw DovecotAuthSyntaxError (Dovecot logs
 * "BUG: … sent broken … request" and disconnects); unknown commands parse as UNKNOWN.
 */
import { DovecotAuthSyntaxError } from './dovecot-auth-errors.js';
import { parseRequestId } from './dovecot-auth-client.js';
import { joinTabEscaped, splitTabEscaped, parseKeyValues, formatKeyValues, type KeyValueFields } from './tab-escape.js';

export const AUTH_MASTER_MAJOR = 1;
export const AUTH_MASTER_MINOR = 1;

export type AuthMasterRequest =
  | { kind: 'VERSION'; major: number; minor: number }
  | { kind: 'CPID'; pid: string }
  | { kind: 'USER'; id: number; user: string; params: KeyValueFields }
  | { kind: 'PASS'; id: number; user: string; params: KeyValueFields }
  | { kind: 'LIST'; id: number; params: KeyValueFields }
  | { kind: 'REQUEST'; id: number; clientPid: string; cuid: string; cookie: string; params: KeyValueFields }
  | { kind: 'UNKNOWN'; command: string };

export type AuthMasterReply =
  | { kind: 'VERSION'; major: number; minor: number }
  | { kind: 'SPID'; pid: string }
  | { kind: 'USER'; id: number; user: string; fields: KeyValueFields }
  | { kind: 'PASS'; id: number; fields: KeyValueFields }
  | { kind: 'NOTFOUND'; id: number }
  | { kind: 'FAIL'; id: number; fields: KeyValueFields }
  | { kind: 'LIST'; id: number; user: string }
  | { kind: 'DONE'; id: number; failed: boolean }
  | { kind: 'UNKNOWN'; command: string };

function version(f: string[]): { major: number; minor: number } {
  if (f.length < 3 || !/^[0-9]{1,9}$/.test(f[1]!) || !/^[0-9]{1,9}$/.test(f[2]!)) throw new DovecotAuthSyntaxError('broken VERSION');
  return { major: Number(f[1]), minor: Number(f[2]) };
}

export function parseMasterRequest(line: string): AuthMasterRequest {
  const f = splitTabEscaped(line);
  const cmd = f[0]!;
  switch (cmd) {
    case 'VERSION': return { kind: 'VERSION', ...version(f) };
    case 'CPID': return { kind: 'CPID', pid: f[1] ?? '' };
    case 'USER':
    case 'PASS': {
      const what = `sent broken ${cmd} request`;
      if (f.length < 3) throw new DovecotAuthSyntaxError(what);
      const id = parseRequestId(f[1], what);
      return { kind: cmd, id, user: f[2]!, params: parseKeyValues(f.slice(3)) };
    }
    case 'LIST': return { kind: 'LIST', id: parseRequestId(f[1], 'sent broken LIST request'), params: parseKeyValues(f.slice(2)) };
    case 'REQUEST': {
      if (f.length < 5) throw new DovecotAuthSyntaxError('sent broken REQUEST');
      return { kind: 'REQUEST', id: parseRequestId(f[1], 'sent broken REQUEST'), clientPid: f[2]!, cuid: f[3]!, cookie: f[4]!, params: parseKeyValues(f.slice(5)) };
    }
    default: return { kind: 'UNKNOWN', command: cmd };
  }
}

export function formatMasterRequest(r: AuthMasterRequest): string {
  switch (r.kind) {
    case 'VERSION': return joinTabEscaped(['VERSION', String(r.major), String(r.minor)]);
    case 'CPID': return joinTabEscaped(['CPID', r.pid]);
    case 'USER':
    case 'PASS': return joinTabEscaped([r.kind, String(r.id), r.user, ...formatKeyValues(r.params)]);
    case 'LIST': return joinTabEscaped(['LIST', String(r.id), ...formatKeyValues(r.params)]);
    case 'REQUEST': return joinTabEscaped(['REQUEST', String(r.id), r.clientPid, r.cuid, r.cookie, ...formatKeyValues(r.params)]);
    case 'UNKNOWN': return joinTabEscaped([r.command]);
  }
}

export function formatMasterReply(r: AuthMasterReply): string {
  switch (r.kind) {
    case 'VERSION': return joinTabEscaped(['VERSION', String(r.major), String(r.minor)]);
    case 'SPID': return joinTabEscaped(['SPID', r.pid]);
    case 'USER': return joinTabEscaped(['USER', String(r.id), r.user, ...formatKeyValues(r.fields)]);
    case 'PASS': return joinTabEscaped(['PASS', String(r.id), ...formatKeyValues(r.fields)]);
    case 'NOTFOUND': return `NOTFOUND\t${r.id}`;
    case 'FAIL': return joinTabEscaped(['FAIL', String(r.id), ...formatKeyValues(r.fields)]);
    case 'LIST': return joinTabEscaped(['LIST', String(r.id), r.user]);
    // Dovecot writes "DONE\t<id>\t" on success and "DONE\t<id>\tfail" on failure (observed trailing TAB).
    case 'DONE': return `DONE\t${r.id}\t${r.failed ? 'fail' : ''}`;
    case 'UNKNOWN': return joinTabEscaped([r.command]);
  }
}

export function parseMasterReply(line: string): AuthMasterReply {
  const f = splitTabEscaped(line);
  const cmd = f[0]!;
  const fields = (from: number): KeyValueFields => parseKeyValues(f.slice(from).filter((x) => x !== ''));
  switch (cmd) {
    case 'VERSION': return { kind: 'VERSION', ...version(f) };
    case 'SPID': return { kind: 'SPID', pid: f[1] ?? '' };
    case 'USER': {
      if (f.length < 3) throw new DovecotAuthSyntaxError('broken USER reply');
      return { kind: 'USER', id: parseRequestId(f[1], 'broken USER reply'), user: f[2]!, fields: fields(3) };
    }
    case 'PASS': return { kind: 'PASS', id: parseRequestId(f[1], 'broken PASS reply'), fields: fields(2) };
    case 'NOTFOUND': return { kind: 'NOTFOUND', id: parseRequestId(f[1], 'broken NOTFOUND reply') };
    case 'FAIL': return { kind: 'FAIL', id: parseRequestId(f[1], 'broken FAIL reply'), fields: fields(2) };
    case 'LIST': {
      if (f.length < 3) throw new DovecotAuthSyntaxError('broken LIST reply');
      return { kind: 'LIST', id: parseRequestId(f[1], 'broken LIST reply'), user: f[2]! };
    }
    case 'DONE': return { kind: 'DONE', id: parseRequestId(f[1], 'broken DONE reply'), failed: f[2] === 'fail' };
    default: return { kind: 'UNKNOWN', command: cmd };
  }
}
