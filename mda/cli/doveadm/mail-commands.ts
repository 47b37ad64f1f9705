/*
 * The message commands of doveadm that take a search query (Dovecot 2.3.19):
 *  - fetch <fields> <query>: one column per field in the order given, default formatter pager;
 *  - search <query>: `mailbox-guid uid` per message (titles hidden), default flow;
 *  - expunge [-m] <query>: silent; refuses a query branch holding only `mailbox` ("To avoid
 *    accidents…", exit 64); -m deletes the mailbox too when it became empty;
 *  - flags add|remove|replace <flags> <query>: silent; flags space-separated in one argument.
 * Changes go through the storage API (view.store / view.expunge); reading never moves new/ to cur/.
 */
import type { MailboxView } from '../../storage/api.js';
import { UsageError } from './args.js';
import { EX_TEMPFAIL, EX_USAGE, type DoveadmContext } from './context.js';
import { AVAILABLE_FIELDS_TEXT, FetchMessage, isFetchField, isStreamField } from './fetch-fields.js';
import { iterateQuery } from './mail-iter.js';
import { mailOpts, userSelection, withUserStore } from './mail-user.js';
import { hasMessageKeyEverywhere, parseDoveadmQuery, type DoveadmQuery } from './search-query.js';
import type { PrintFormat } from './print.js';
import { ImapSyntaxError } from '../../imap/proto/errors.js';

export const MAIL_USAGE: Record<string, string> = {
  fetch: 'doveadm fetch [-u <user>|-A] [-S <socket_path>] <fields> <search query>',
  search: 'doveadm search [-u <user>|-A] [-S <socket_path>] <search query>',
  expunge: 'doveadm expunge [-u <user>|-A] [-S <socket_path>] [-m] <search query>',
  'flags add': 'doveadm flags add [-u <user>|-A] [-S <socket_path>] <flags> <search query>',
  'flags remove': 'doveadm flags remove [-u <user>|-A] [-S <socket_path>] <flags> <search query>',
  'flags replace': 'doveadm flags replace [-u <user>|-A] [-S <socket_path>] <flags> <search query>',
};

function query(ctx: DoveadmContext, words: readonly string[]): DoveadmQuery {
  try {
    return parseDoveadmQuery(words);
  } catch (err) {
    if (err instanceof ImapSyntaxError || (err instanceof Error && err.name === 'QueryError')) ctx.fatal(err.message, EX_TEMPFAIL);
    throw err;
  }
}

async function run(ctx: DoveadmContext, args: readonly string[], extra: string, minRest: number, format: PrintFormat, setup: (rest: string[], flags: Set<string>) => { q: DoveadmQuery; headers: () => void; readOnly: boolean; reportMissing?: boolean; visit: (user: string, view: MailboxView, msgs: readonly import('../../storage/api.js').MessageInfo[], guid: string) => Promise<void> }): Promise<void> {
  const p = mailOpts(args, extra);
  if (p.rest.length < minRest) throw new UsageError('usage');
  const plan = setup(p.rest, p.flags);
  const sel = userSelection(p, ctx.io.env ?? process.env);
  const printer = ctx.printer(format);
  if (!sel.single) printer.header({ key: 'username', title: 'Username', hideTitle: true });
  plan.headers();
  for await (const user of sel.users(ctx)) {
    if (!sel.single) printer.sticky('username', user);
    await withUserStore(ctx, user, ({ store }) =>
      iterateQuery(ctx, user, store, plan.q, { readOnly: plan.readOnly, reportMissing: plan.reportMissing ?? false }, (view, msgs, guid) => plan.visit(user, view, msgs, guid)));
  }
}

export function fetchCommand(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  return run(ctx, args, '', 2, 'pager', ([fieldText, ...words]) => {
    const fields = fieldText!.split(' ').filter((f) => f !== '').map((f) => f.toLowerCase());
    for (const f of fields) {
      if (!isFetchField(f)) {
        ctx.io.stderr(`${AVAILABLE_FIELDS_TEXT}\n`);
        ctx.fatal(`Unknown fetch field: ${f}`, EX_TEMPFAIL);
      }
    }
    const q = query(ctx, words);
    const printer = ctx.printer('pager');
    return {
      q,
      readOnly: true,
      headers: () => { for (const f of fields) printer.header({ key: f, title: f }); },
      visit: async (user, view, msgs, guid) => {
        for (const m of msgs) {
          const fm = new FetchMessage({ user, view, mailboxGuid: guid }, m);
          for (const f of fields) {
            const v = await fm.value(f);
            if (isStreamField(f)) printer.printStream(v);
            else printer.print(v);
          }
        }
      },
    };
  });
}

export function searchCommand(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  return run(ctx, args, '', 1, 'flow', (words) => {
    const q = query(ctx, words);
    const printer = ctx.printer('flow');
    return {
      q,
      readOnly: true,
      reportMissing: true,
      headers: () => {
        printer.header({ key: 'mailbox-guid', title: 'mailbox-guid', hideTitle: true });
        printer.header({ key: 'uid', title: 'uid', hideTitle: true });
      },
      visit: async (_user, _view, msgs, guid) => {
        for (const m of msgs) {
          printer.print(guid);
          printer.print(String(m.uid));
        }
      },
    };
  });
}

export function expungeCommand(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  return run(ctx, args, 'm', 1, 'flow', (words, flags) => {
    const q = query(ctx, words);
    if (!hasMessageKeyEverywhere(q.root)) {
      ctx.fatal('expunge: To avoid accidents, each branch in search query must contain something else besides MAILBOX (e.g. just add "all" if you want everything)', EX_USAGE);
    }
    return {
      q,
      readOnly: false,
      headers: () => undefined,
      visit: async (_user, view, msgs) => {
        if (msgs.length > 0) await view.expunge({ uids: msgs.map((m) => m.uid), onlyDeleted: false });
        if (flags.has('m')) {
          await view.refresh();
          if (view.messages().length === 0) ctx.io.stderr(`Warning: expunge -m: not deleting mailbox ${view.name} (not supported)\n`);
        }
      },
    };
  });
}

export function flagsCommand(ctx: DoveadmContext, mode: 'add' | 'remove' | 'replace', args: readonly string[]): Promise<void> {
  return run(ctx, args, '', 2, 'flow', ([flagText, ...words]) => {
    const list = flagText!.split(' ').filter((f) => f !== '');
    const flags = list.map((f) => {
      const known = ['\\answered', '\\flagged', '\\deleted', '\\seen', '\\draft'].find((s) => s === f.toLowerCase());
      if (f.startsWith('\\') && known === undefined) ctx.fatal(`Invalid system flag: ${f}`, EX_TEMPFAIL);
      return known !== undefined ? `\\${known[1]!.toUpperCase()}${known.slice(2)}` : f;
    });
    const q = query(ctx, words);
    return {
      q,
      readOnly: false,
      headers: () => undefined,
      visit: async (_user, view, msgs) => {
        if (msgs.length > 0) await view.store(msgs.map((m) => m.uid), { mode, flags });
      },
    };
  });
}
