/*
 * doveadm reload, stop, who, kick and force-resync.
 *  - reload / stop: signal the running daemon named by `<base_dir>/master.pid` (SIGHUP /
 *    SIGTERM), as `dovecot reload|stop` does; not running: `Fatal: Dovecot is not running`.
 *  - who [-1] [mask] [ip]: sessions from the daemon's admin socket (mda/admin/protocol.ts), grouped by
 *    user and service (`username # service (pids) (ips)`), or one line per session with -1;
 *    default formatter table, as doveadm-who.c prints it.
 *  - kick <mask> [ip]: asks the daemon to disconnect matching sessions and lists the users.
 *  - force-resync [-f] <mask>: opens each matching mailbox read-write through the storage API,
 *    which re-reads the maildir against dovecot-uidlist (the maildir backend's resync).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../../../shared/fs/pid.js';
import { getopt, UsageError } from './args.js';
import { EX_FATAL, EX_NOTFOUND, type DoveadmContext } from './context.js';
import { netMatcher } from '../../admin/sessions.js';
import { adminRequest } from './admin-client.js';
import { ADMIN_SOCKET_NAME, type AdminSession } from '../../admin/protocol.js';
import { mailOpts } from './mail-user.js';
import { eachMatchingMailbox } from './mailbox.js';

export async function signalDaemon(ctx: DoveadmContext, which: 'reload' | 'stop'): Promise<void> {
  const pidFile = join(ctx.setting('base_dir'), 'master.pid');
  let pid: number | undefined;
  if (existsSync(pidFile)) {
    const n = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(n) && n > 0 && pidAlive(n)) pid = n;
  }
  if (pid === undefined) ctx.fatal(`Dovecot is not running (read from ${pidFile})`, EX_FATAL);
  process.kill(pid, which === 'reload' ? 'SIGHUP' : 'SIGTERM');
  if (which === 'stop') {
    for (let i = 0; i < 600 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  }
}

function adminPath(ctx: DoveadmContext, p: ReturnType<typeof getopt>): string {
  const a = p.values.find(([k]) => k === 'a')?.[1];
  return a ?? join(ctx.setting('base_dir'), ADMIN_SOCKET_NAME);
}

export async function who(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = getopt(args, '1a:');
  const [mask, net] = p.rest;
  let sessions: AdminSession[];
  try {
    const replies = await adminRequest(adminPath(ctx, p), { kind: 'who', mask });
    sessions = replies.flatMap((r) => (r.kind === 'session' ? [r.session] : []));
  } catch (err) {
    ctx.fatal(err instanceof Error ? err.message : String(err), EX_FATAL);
  }
  if (net !== undefined) {
    const m = netMatcher(net);
    sessions = sessions.filter((s) => m !== undefined && m(s.ip));
  }
  const printer = ctx.printer('table');
  // doveadm-who.c: with -1 the username column takes the spare width, grouped the last one does.
  if (p.flags.has('1')) {
    printer.header({ key: 'username', title: 'username', expand: true });
    printer.header({ key: 'service', title: 'proto' });
    printer.header({ key: 'pid', title: 'pid' });
    printer.header({ key: 'ip', title: 'ip' });
    for (const s of sessions) {
      printer.print(s.user);
      printer.print(s.service);
      printer.print(String(s.pid));
      printer.print(s.ip);
    }
    return;
  }
  printer.header({ key: 'username', title: 'username' });
  printer.header({ key: 'connections', title: '#', rightJustify: true });
  printer.header({ key: 'service', title: 'proto' });
  printer.header({ key: 'pids', title: '(pids)' });
  printer.header({ key: 'ips', title: '(ips)' });
  const groups = new Map<string, AdminSession[]>();
  for (const s of sessions) {
    const k = `${s.user}\t${s.service}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  let rows = 0;
  for (const list of groups.values()) {
    const first = list[0]!;
    printer.print(first.user);
    printer.print(String(list.length));
    printer.print(first.service);
    printer.print(`(${[...new Set(list.map((s) => s.pid))].join(' ')})`);
    printer.print(`(${[...new Set(list.map((s) => s.ip).filter((ip) => ip !== ''))].join(' ')})`);
    // Observed in doveadm 2.3.19: the grouped table's column widths come from its first row only
    // (a later, wider `(pids)` value overflows its column), so the widths are fixed after it.
    if (++rows === 1 && printer.format === 'table') printer.flush();
  }
}

/**
 * doveadm-kick.c: the kicked users (sorted, unique) go through the formatted printer (`%{result} `)
 * and the heading through printf; doveadm flushes its own stream before stdio's buffer, so piped
 * output reads `u1 u2 kicked connections from the following users:\n\n` (observed; Postern prints
 * that order on a tty too). Nobody kicked: `no users kicked`, exit 68.
 */
export async function kick(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = getopt(args, 'a:f');
  const [mask, net] = p.rest;
  if (mask === undefined) throw new UsageError('usage');
  let users: string[];
  try {
    const replies = await adminRequest(adminPath(ctx, p), { kind: 'kick', mask, net });
    users = replies.flatMap((r) => (r.kind === 'kicked' ? [r.user] : []));
  } catch (err) {
    ctx.fatal(err instanceof Error ? err.message : String(err), EX_FATAL);
  }
  const printer = ctx.printer('flow');
  if (users.length === 0) {
    printer.printf('no users kicked\n');
    ctx.fail(EX_NOTFOUND);
    return;
  }
  const sorted = [...new Set(users)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  printer.printf('kicked connections from the following users:\n');
  for (const u of sorted) printer.formatted(`${u} `);
  printer.printf('\n');
}

export async function forceResync(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = mailOpts(args, 'f');
  if (p.rest.length === 0) throw new UsageError('usage');
  await eachMatchingMailbox(ctx, p, (name) => `Forcing a resync on mailbox ${name} failed`, async (store, name) => {
    const view = await store.openMailbox(name, { readOnly: false });
    await view.refresh();
    await view.close();
  });
}
