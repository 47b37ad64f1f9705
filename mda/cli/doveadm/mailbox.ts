/*
 * doveadm mailbox list|create|delete|rename|subscribe|unsubscribe|status (doveadm-mail-mailbox.c,
 * doveadm-mail-mailbox-status.c, Dovecot 2.3.19):
 *  - list [-s] [mask…]: one `mailbox` column (title hidden), default formatter flow;
 *  - create/delete/rename/(un)subscribe: silent; errors `Can't create mailbox X: <reason>` etc.;
 *  - status <fields> <mask…>: `mailbox` (title hidden) then the fields asked for, always in
 *    Dovecot's fixed order messages recent uidnext uidvalidity unseen highestmodseq vsize guid
 *    firstsaved; `all` means every one of them; default formatter flow.
 * Exit codes from the storage error (68 not found, 65 exists, 64 bad name, 75 temporary).
 */
import { isStorageError, mailboxGuidOf, type MailboxStatus, type MailboxView, type MailStore } from '../../storage/api.js';
import { UsageError, type Parsed } from './args.js';
import { exitForStorage, EX_TEMPFAIL, type DoveadmContext } from './context.js';
import { mailOpts, userSelection, withUserStore } from './mail-user.js';
import { mailboxMatcher } from './mailbox-mask.js';
import type { PrintHeader } from './print.js';

const USAGE: Record<string, string> = {
  list: '[-u <user>|-A] [-S <socket_path>] [-7|-8] [-s] [<mailbox mask> [...]]',
  create: '[-u <user>|-A] [-S <socket_path>] [-s] [-g <guid>] <mailbox> [...]',
  delete: '[-u <user>|-A] [-S <socket_path>] [-e] [-r] [-s] [-Z] <mailbox> [...]',
  rename: '[-u <user>|-A] [-S <socket_path>] [-s] <old name> <new name>',
  status: '[-u <user>|-A] [-S <socket_path>] <fields> <mailbox> [...]',
  subscribe: '[-u <user>|-A] [-S <socket_path>] <mailbox> [...]',
  unsubscribe: '[-u <user>|-A] [-S <socket_path>] <mailbox> [...]',
};

export function mailboxUsage(sub: string): string {
  return `doveadm mailbox ${sub} ${USAGE[sub] ?? ''}\n`;
}

export const MAILBOX_SUBCOMMANDS = Object.keys(USAGE);

const STATUS_FIELDS = ['messages', 'recent', 'uidnext', 'uidvalidity', 'unseen', 'highestmodseq', 'vsize', 'guid', 'firstsaved'] as const;
type StatusField = (typeof STATUS_FIELDS)[number];

const MAILBOX_HEADER: PrintHeader = { key: 'mailbox', title: 'mailbox', hideTitle: true };

/** Selectable mailboxes of a store, in list order. */
export async function selectableMailboxes(store: MailStore, subscribedOnly = false): Promise<string[]> {
  const entries = await store.list(subscribedOnly ? { subscribedOnly: true } : {});
  return entries.filter((e) => !e.attributes.includes('\\Noselect') && !e.attributes.includes('\\NonExistent')).map((e) => e.name);
}

/**
 * Runs `fn` on each selectable mailbox of each selected user that matches the mask words `p.rest`
 * (force-resync, index). A mailbox that fails is reported as `<failed(name)>: <reason>` with
 * doveadm's exit code for the failure, and the others go on.
 */
export async function eachMatchingMailbox(
  ctx: DoveadmContext, p: Parsed, failed: (name: string) => string, fn: (store: MailStore, name: string) => Promise<void>,
): Promise<void> {
  const sel = userSelection(p, ctx.io.env ?? process.env);
  for await (const user of sel.users(ctx)) {
    await withUserStore(ctx, user, async ({ store }) => {
      const match = mailboxMatcher(p.rest, store.separator);
      for (const name of (await selectableMailboxes(store)).filter(match)) {
        try {
          await fn(store, name);
        } catch (err) {
          ctx.userError(user, `${failed(name)}: ${isStorageError(err) ? err.clientText : String(err)}`);
          ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : EX_TEMPFAIL);
        }
      }
    });
  }
}

function storageText(err: unknown): string {
  return isStorageError(err) ? err.clientText : err instanceof Error ? err.message : String(err);
}

async function forUsers(ctx: DoveadmContext, args: readonly string[], extraSpec: string, defaultFormat: 'flow', headers: PrintHeader[], fn: (store: MailStore, user: string, rest: string[], flags: Set<string>) => Promise<void>, check: (rest: string[]) => boolean): Promise<void> {
  const p = mailOpts(args, extraSpec);
  if (!check(p.rest)) throw new UsageError('usage');
  const sel = userSelection(p, ctx.io.env ?? process.env);
  const printer = ctx.printer(defaultFormat);
  if (!sel.single) printer.header({ key: 'username', title: 'Username', hideTitle: true });
  for (const h of headers) printer.header(h);
  for await (const user of sel.users(ctx)) {
    if (!sel.single) printer.sticky('username', user);
    await withUserStore(ctx, user, (u) => fn(u.store, user, p.rest, p.flags));
  }
}

export async function mailboxCommand(ctx: DoveadmContext, sub: string, args: readonly string[]): Promise<void> {
  switch (sub) {
    case 'list':
      return forUsers(ctx, args, '78s', 'flow', [MAILBOX_HEADER], async (store, _user, masks, flags) => {
        const match = masks.length === 0 ? () => true : mailboxMatcher(masks, store.separator);
        for (const name of await selectableMailboxes(store, flags.has('s'))) if (match(name)) ctx.printer('flow').print(name);
      }, () => true);
    case 'create':
      return forUsers(ctx, args, 'g:s', 'flow', [], async (store, user, names, flags) => {
        for (const name of names) {
          try {
            await store.create(name);
            if (flags.has('s')) await store.subscribe(name);
          } catch (err) {
            ctx.userError(user, `Can't create mailbox ${name}: ${storageText(err)}`);
            ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : 75);
          }
        }
      }, (r) => r.length > 0);
    case 'delete':
      return forUsers(ctx, args, 'ersZ', 'flow', [], async (store, user, names, flags) => {
        // -r: children first, deepest first.
        const targets: string[] = [];
        const all = flags.has('r') ? await selectableMailboxes(store) : [];
        for (const name of names) {
          if (flags.has('r')) {
            const kids = all.filter((m) => m.startsWith(name + store.separator)).sort((a, b) => b.length - a.length);
            targets.push(...kids);
          }
          targets.push(name);
        }
        for (const name of targets) {
          try {
            if (flags.has('s')) await store.unsubscribe(name).catch(() => undefined);
            await store.delete(name);
          } catch (err) {
            ctx.userError(user, `Can't delete mailbox ${name}: ${storageText(err)}`);
            ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : 75);
          }
        }
      }, (r) => r.length > 0);
    case 'rename':
      return forUsers(ctx, args, 's', 'flow', [], async (store, user, [from, to], flags) => {
        try {
          await store.rename(from!, to!);
          if (flags.has('s')) {
            await store.unsubscribe(from!).catch(() => undefined);
            await store.subscribe(to!);
          }
        } catch (err) {
          ctx.userError(user, `Can't rename mailbox ${from} to ${to}: ${storageText(err)}`);
          ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : 75);
        }
      }, (r) => r.length === 2);
    case 'subscribe':
    case 'unsubscribe':
      return forUsers(ctx, args, '', 'flow', [], async (store, user, names) => {
        for (const name of names) {
          try {
            if (sub === 'subscribe') await store.subscribe(name);
            else await store.unsubscribe(name);
          } catch (err) {
            ctx.userError(user, `Can't ${sub} to mailbox ${name}: ${storageText(err)}`);
            ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : 75);
          }
        }
      }, (r) => r.length > 0);
    case 'status':
      return mailboxStatus(ctx, args);
    default:
      throw new UsageError('unknown mailbox subcommand');
  }
}

function parseStatusFields(ctx: DoveadmContext, text: string): Set<StatusField> {
  const want = new Set<StatusField>();
  for (const f of text.split(' ').filter((x) => x !== '')) {
    const l = f.toLowerCase();
    if (l === 'all') for (const x of STATUS_FIELDS) want.add(x);
    else if ((STATUS_FIELDS as readonly string[]).includes(l)) want.add(l as StatusField);
    else ctx.fatal(`Unknown status field: ${f}`, 64);
  }
  return want;
}

async function mailboxStatus(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = mailOpts(args, 't');
  if (p.rest.length < 2) throw new UsageError('usage');
  const [fieldText, ...masks] = p.rest as [string, ...string[]];
  const want = parseStatusFields(ctx, fieldText);
  const fields = STATUS_FIELDS.filter((f) => want.has(f));
  const totalSum = p.flags.has('t');
  const sel = userSelection(p, ctx.io.env ?? process.env);
  const printer = ctx.printer('flow');
  if (!sel.single) printer.header({ key: 'username', title: 'Username', hideTitle: true });
  if (!totalSum) printer.header(MAILBOX_HEADER);
  for (const f of fields) printer.header({ key: f, title: f });
  for await (const user of sel.users(ctx)) {
    if (!sel.single) printer.sticky('username', user);
    await withUserStore(ctx, user, async ({ store }) => {
      const existing = await selectableMailboxes(store);
      const match = mailboxMatcher(masks, store.separator);
      const literal = masks.filter((m) => !/[*%]/.test(m));
      // Literal names are looked up even when absent (and then fail); wildcards list what exists.
      const names = [...existing.filter((n) => match(n) && !literal.some((l) => sameName(l, n))), ...literal];
      const ordered = existing.filter((n) => names.includes(n)).concat(literal.filter((l) => !existing.some((n) => sameName(l, n))));
      const sums = new Map<StatusField, number>();
      for (const name of ordered) {
        let values: Map<StatusField, string>;
        try {
          values = await statusValues(store, name, want);
        } catch (err) {
          ctx.userError(user, `Mailbox ${name}: Failed to lookup mailbox status: ${storageText(err)}`);
          ctx.fail(isStorageError(err) ? exitForStorage(err.kind) : 75);
          continue;
        }
        if (totalSum) {
          for (const f of fields) sums.set(f, (sums.get(f) ?? 0) + Number(values.get(f) ?? 0));
          continue;
        }
        printer.print(name);
        for (const f of fields) printer.print(values.get(f) ?? '');
      }
      if (totalSum) for (const f of fields) printer.print(String(sums.get(f) ?? 0));
    });
  }
}

function sameName(a: string, b: string): boolean {
  return a === b || (a.toUpperCase() === 'INBOX' && b.toUpperCase() === 'INBOX');
}

/** Sum of virtual sizes, computing those the filename does not carry (no `,W=`). */
export async function virtualTotal(view: MailboxView): Promise<number> {
  let sum = 0;
  for (const m of view.messages()) sum += m.virtualSize ?? (await view.messageSizes(m.uid)).virtual;
  return sum;
}

/** The STATUS fields every path answers alike, from a status and the two values that differ by path. */
function statusFields(s: Omit<MailboxStatus, 'size' | 'firstUnseenSeq' | 'guid'>, vsize: number, guid: string): Map<StatusField, string> {
  return new Map<StatusField, string>([
    ['messages', String(s.messages)],
    ['recent', String(s.recent)],
    ['uidnext', String(s.uidNext)],
    ['uidvalidity', String(s.uidValidity)],
    ['unseen', String(s.unseen)],
    ['highestmodseq', String(s.highestModseq)],
    ['vsize', String(vsize)],
    ['guid', guid],
  ]);
}

async function statusValues(store: MailStore, name: string, want: Set<StatusField>): Promise<Map<StatusField, string>> {
  // Everything but firstsaved is a STATUS (the store answers it from its index when the mailbox
  // is unchanged); firstsaved needs the first message, so the mailbox is opened for it.
  if (!want.has('firstsaved')) {
    const s = await store.status(name);
    return statusFields(s, s.size, s.guid ?? '');
  }
  const view = await store.openMailbox(name, { readOnly: true });
  try {
    const out = statusFields(view.status(), await virtualTotal(view), mailboxGuidOf(view));
    const first = view.messages()[0];
    out.set('firstsaved', first === undefined ? 'never' : String(Math.floor((await view.internalDate(first.uid)).getTime() / 1000)));
    return out;
  } finally {
    await view.close();
  }
}
