/*
 * Codec for Dovecot's auth-client protocol 1.2 (auth-client-interface.h), both directions, so the
 * MDA's auth server and the MTA's SASL client share one definition. TAB-separated, LF-terminated
 * lines, values TAB-escaped (tab-escape.ts), at most 16384 bytes a line (enforced by the reader).
 *
 * Client → server: VERSION, CPID, AUTH, CONT.  Server → client: VERSION, MECH, SPID, CUID, COOKIE,
 * DONE, OK, CONT, FAIL. Request ids are unsigned 32-bit decimal (str_to_uint). AUTH parameters are
 * "name=value" or bare flags; "resp=" must be last and ends the list, as in
 * auth_request_handler_auth_begin.
 *
 * Distrusts every line: a malformed known command throws DovecotAuthSyntaxError; an unknown
 * command parses as UNKNOWN so the state machine decides (Dovecot disconnects).
 */
import { DovecotAuthSyntaxError } from './dovecot-auth-errors.js';
import { joinTabEscaped, splitTabEscaped, parseKeyValues, formatKeyValues, type KeyValueFields } from './tab-escape.js';

export const AUTH_CLIENT_MAJOR = 1;
export const AUTH_CLIENT_MINOR = 2;
export const AUTH_MAX_LINE = 16384;

export type MechFlag = 'plaintext' | 'anonymous' | 'dictionary' | 'active' | 'forward-secrecy' | 'mutual-auth' | 'private';

const MECH_FLAGS: readonly MechFlag[] = ['plaintext', 'anonymous', 'dictionary', 'active', 'forward-secrecy', 'mutual-auth', 'private'];

/** AUTH parameters: the well-known ones typed, the rest kept in order in `extra`. */
export interface AuthParams {
  service?: string;
  lip?: string;
  rip?: string;
  lport?: string;
  rport?: string;
  session?: string;
  secured: boolean;
  nologin: boolean;
  validClientCert: boolean;
  noPenalty: boolean;
  finalRespOk: boolean;
  debug: boolean;
  /** Base64 initial response; '' = empty initial response ("resp="); undefined = none. */
  resp?: string;
  /** Every other name=value or flag, in order. */
  extra: KeyValueFields;
}

export type AuthClientLine =
  | { kind: 'VERSION'; major: number; minor: number }
  | { kind: 'CPID'; pid: string }
  | { kind: 'AUTH'; id: number; mech: string; params: AuthParams }
  | { kind: 'CONT'; id: number; data: string }
  | { kind: 'UNKNOWN'; command: string };

export type AuthServerLine =
  | { kind: 'VERSION'; major: number; minor: number }
  | { kind: 'MECH'; name: string; flags: MechFlag[] }
  | { kind: 'SPID'; pid: string }
  | { kind: 'CUID'; cuid: string }
  | { kind: 'COOKIE'; cookie: string }
  | { kind: 'DONE' }
  | { kind: 'OK'; id: number; fields: KeyValueFields }
  | { kind: 'CONT'; id: number; data: string }
  | { kind: 'FAIL'; id: number; fields: KeyValueFields }
  | { kind: 'UNKNOWN'; command: string };

/** str_to_uint: decimal digits only, fits in 32 bits. */
export function parseRequestId(s: string | undefined, what: string): number {
  if (s === undefined || !/^[0-9]{1,10}$/.test(s)) throw new DovecotAuthSyntaxError(`${what}: invalid id`);
  const n = Number(s);
  if (n > 0xffffffff) throw new DovecotAuthSyntaxError(`${what}: invalid id`);
  return n;
}

function parseVersion(f: string[], what: string): { major: number; minor: number } {
  if (f.length < 3 || !/^[0-9]{1,9}$/.test(f[1]!) || !/^[0-9]{1,9}$/.test(f[2]!)) {
    throw new DovecotAuthSyntaxError(`${what}: broken VERSION`);
  }
  return { major: Number(f[1]), minor: Number(f[2]) };
}

const FLAG_PARAMS: Record<string, keyof Pick<AuthParams, 'secured' | 'nologin' | 'validClientCert' | 'noPenalty' | 'finalRespOk' | 'debug'>> = {
  secured: 'secured', nologin: 'nologin', 'valid-client-cert': 'validClientCert', 'no-penalty': 'noPenalty',
  'final-resp-ok': 'finalRespOk', debug: 'debug',
};

const VALUE_PARAMS = ['service', 'lip', 'rip', 'lport', 'rport', 'session'] as const;

export function parseAuthParams(args: readonly string[]): AuthParams {
  const p: AuthParams = { secured: false, nologin: false, validClientCert: false, noPenalty: false, finalRespOk: false, debug: false, extra: [] };
  for (const [name, value] of parseKeyValues(args)) {
    if (name === 'resp') {
      p.resp = value ?? '';
      break;
    }
    const flag = FLAG_PARAMS[name];
    if (flag !== undefined && value === undefined) {
      p[flag] = true;
      continue;
    }
    const known = (VALUE_PARAMS as readonly string[]).includes(name) ? (name as (typeof VALUE_PARAMS)[number]) : undefined;
    if (known !== undefined && value !== undefined) p[known] = value;
    else p.extra.push([name, value]);
  }
  return p;
}

export function formatAuthParams(p: AuthParams): string[] {
  const out: string[] = [];
  for (const k of VALUE_PARAMS) if (p[k] !== undefined) out.push(`${k}=${p[k]}`);
  for (const [name, key] of Object.entries(FLAG_PARAMS)) if (p[key]) out.push(name);
  out.push(...formatKeyValues(p.extra));
  if (p.resp !== undefined) out.push(`resp=${p.resp}`);
  return out;
}

/** Parses one client line (without its LF). */
export function parseClientLine(line: string): AuthClientLine {
  const f = splitTabEscaped(line);
  const cmd = f[0]!;
  switch (cmd) {
    case 'VERSION': return { kind: 'VERSION', ...parseVersion(f, 'VERSION') };
    case 'CPID': {
      if (f.length < 2 || !/^[0-9]{1,10}$/.test(f[1]!)) throw new DovecotAuthSyntaxError('broken CPID');
      return { kind: 'CPID', pid: f[1]! };
    }
    case 'AUTH': {
      if (f.length < 3 || f[2] === '') throw new DovecotAuthSyntaxError('sent broken AUTH request');
      const id = parseRequestId(f[1], 'sent broken AUTH request');
      return { kind: 'AUTH', id, mech: f[2]!, params: parseAuthParams(f.slice(3)) };
    }
    case 'CONT': {
      if (f.length < 3) throw new DovecotAuthSyntaxError('sent broken CONT request');
      return { kind: 'CONT', id: parseRequestId(f[1], 'sent broken CONT request'), data: f[2]! };
    }
    default: return { kind: 'UNKNOWN', command: cmd };
  }
}

export function formatClientLine(l: AuthClientLine): string {
  switch (l.kind) {
    case 'VERSION': return joinTabEscaped(['VERSION', String(l.major), String(l.minor)]);
    case 'CPID': return joinTabEscaped(['CPID', l.pid]);
    case 'AUTH': return joinTabEscaped(['AUTH', String(l.id), l.mech, ...formatAuthParams(l.params)]);
    case 'CONT': return joinTabEscaped(['CONT', String(l.id), l.data]);
    case 'UNKNOWN': return joinTabEscaped([l.command]);
  }
}

/** Parses one server line (the client side of the protocol). */
export function parseServerLine(line: string): AuthServerLine {
  const f = splitTabEscaped(line);
  const cmd = f[0]!;
  switch (cmd) {
    case 'VERSION': return { kind: 'VERSION', ...parseVersion(f, 'VERSION') };
    case 'MECH': {
      if (f.length < 2 || f[1] === '') throw new DovecotAuthSyntaxError('broken MECH');
      return { kind: 'MECH', name: f[1]!, flags: f.slice(2).filter((x): x is MechFlag => (MECH_FLAGS as readonly string[]).includes(x)) };
    }
    case 'SPID': return { kind: 'SPID', pid: f[1] ?? '' };
    case 'CUID': return { kind: 'CUID', cuid: f[1] ?? '' };
    case 'COOKIE': return { kind: 'COOKIE', cookie: f[1] ?? '' };
    case 'DONE': return { kind: 'DONE' };
    case 'OK':
    case 'FAIL': {
      const id = parseRequestId(f[1], `broken ${cmd}`);
      const fields = parseKeyValues(f.slice(2).filter((x) => x !== ''));
      return cmd === 'OK' ? { kind: 'OK', id, fields } : { kind: 'FAIL', id, fields };
    }
    case 'CONT': return { kind: 'CONT', id: parseRequestId(f[1], 'broken CONT'), data: f[2] ?? '' };
    default: return { kind: 'UNKNOWN', command: cmd };
  }
}

export function formatServerLine(l: AuthServerLine): string {
  switch (l.kind) {
    case 'VERSION': return joinTabEscaped(['VERSION', String(l.major), String(l.minor)]);
    case 'MECH': return joinTabEscaped(['MECH', l.name, ...l.flags]);
    case 'SPID': return joinTabEscaped(['SPID', l.pid]);
    case 'CUID': return joinTabEscaped(['CUID', l.cuid]);
    case 'COOKIE': return joinTabEscaped(['COOKIE', l.cookie]);
    case 'DONE': return 'DONE';
    case 'OK': return joinTabEscaped(['OK', String(l.id), ...formatKeyValues(l.fields)]);
    case 'FAIL': return joinTabEscaped(['FAIL', String(l.id), ...formatKeyValues(l.fields)]);
    case 'CONT': return joinTabEscaped(['CONT', String(l.id), l.data]);
    case 'UNKNOWN': return joinTabEscaped([l.command]);
  }
}
