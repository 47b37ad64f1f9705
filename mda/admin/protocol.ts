/*
 * The Postern admin protocol: what `doveadm who` and `doveadm kick` use to ask the running MDA
 * about its sessions (real Dovecot asks anvil; Postern keeps sessions in the one daemon process).
 * A Unix stream socket at `<base_dir>/postern-admin` (mode 0600, owned by the user the daemon
 * started as). Lines end in LF; fields are TAB-separated and tab-escaped (shared/proto/tab-escape).
 *
 *   C: VERSION\tpostern-admin\t1            S: VERSION\tpostern-admin\t1
 *   C: WHO[\t<user mask>]                   S: SESSION\t<user>\t<service>\t<pid>\t<ip>\t<session id>  (0..n)
 *                                           S: OK
 *   C: KICK\t<user mask>[\t<ip/bits>]      S: KICKED\t<user>                                        (0..n)
 *                                           S: OK
 *   anything else                           S: ERR\t<text>
 *
 * The server closes after the reply to one command. Masks use `*` and `?` (case-insensitive);
 * `ip` is empty for sessions without a remote address. Pure: encoders and a line parser only.
 */
import { joinTabEscaped, splitTabEscaped } from '../../shared/proto/tab-escape.js';

export const ADMIN_SOCKET_NAME = 'postern-admin';
export const ADMIN_PROTOCOL_VERSION = '1';
export const ADMIN_MAX_LINE = 65536;

export interface AdminSession {
  readonly user: string;
  readonly service: string;
  readonly pid: number;
  readonly ip: string;
  readonly session: string;
}

export type AdminRequest =
  | { readonly kind: 'version'; readonly name: string; readonly version: string }
  | { readonly kind: 'who'; readonly mask: string | undefined }
  | { readonly kind: 'kick'; readonly mask: string; readonly net: string | undefined };

export type AdminReply =
  | { readonly kind: 'version'; readonly version: string }
  | { readonly kind: 'session'; readonly session: AdminSession }
  | { readonly kind: 'kicked'; readonly user: string }
  | { readonly kind: 'ok' }
  | { readonly kind: 'err'; readonly text: string };

export class AdminProtocolError extends Error {
  override readonly name = 'AdminProtocolError';
}

export function formatAdminRequest(r: AdminRequest): string {
  switch (r.kind) {
    case 'version': return `${joinTabEscaped(['VERSION', r.name, r.version])}\n`;
    case 'who': return `${joinTabEscaped(r.mask === undefined ? ['WHO'] : ['WHO', r.mask])}\n`;
    case 'kick': return `${joinTabEscaped(r.net === undefined ? ['KICK', r.mask] : ['KICK', r.mask, r.net])}\n`;
  }
}

export function parseAdminRequest(line: string): AdminRequest {
  const f = splitTabEscaped(line);
  switch (f[0]) {
    case 'VERSION':
      if (f.length !== 3) break;
      return { kind: 'version', name: f[1]!, version: f[2]! };
    case 'WHO':
      if (f.length > 2) break;
      return { kind: 'who', mask: f[1] };
    case 'KICK':
      if (f.length < 2 || f.length > 3) break;
      return { kind: 'kick', mask: f[1]!, net: f[2] };
  }
  throw new AdminProtocolError(`Invalid request: ${f[0] ?? ''}`);
}

export function formatAdminReply(r: AdminReply): string {
  switch (r.kind) {
    case 'version': return `${joinTabEscaped(['VERSION', 'postern-admin', r.version])}\n`;
    case 'session': {
      const s = r.session;
      return `${joinTabEscaped(['SESSION', s.user, s.service, String(s.pid), s.ip, s.session])}\n`;
    }
    case 'kicked': return `${joinTabEscaped(['KICKED', r.user])}\n`;
    case 'ok': return 'OK\n';
    case 'err': return `${joinTabEscaped(['ERR', r.text])}\n`;
  }
}

export function parseAdminReply(line: string): AdminReply {
  const f = splitTabEscaped(line);
  switch (f[0]) {
    case 'VERSION':
      if (f.length === 3) return { kind: 'version', version: f[2]! };
      break;
    case 'SESSION':
      if (f.length === 6 && /^\d+$/.test(f[3]!)) {
        return { kind: 'session', session: { user: f[1]!, service: f[2]!, pid: Number(f[3]), ip: f[4]!, session: f[5]! } };
      }
      break;
    case 'KICKED':
      if (f.length === 2) return { kind: 'kicked', user: f[1]! };
      break;
    case 'OK':
      return { kind: 'ok' };
    case 'ERR':
      return { kind: 'err', text: f[1] ?? '' };
  }
  throw new AdminProtocolError(`Invalid reply: ${line.slice(0, 80)}`);
}
