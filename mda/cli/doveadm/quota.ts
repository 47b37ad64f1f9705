/*
 * doveadm quota get (Dovecot 2.3 doveadm-quota.c): per quota root one row per resource,
 * `Quota name  Type  Value  Limit  %` with Value/Limit/% right-justified, default formatter table.
 * STORAGE is in KiB rounded up (quota_get_resource), MESSAGE a count; no limit prints `-` and 0 %.
 * The quota configuration comes from mda/deliver/quota-rules.ts and the usage from the storage
 * API's openQuota (`maildirsize` for the maildir backend, a recount otherwise), the same calls LMTP
 * delivery makes, so doveadm reports exactly what LMTP enforces. Quota not enabled: `Quota not enabled`, exit 68.
 */
import { quotaConfig, quotaRootOf } from '../../deliver/quota-rules.js';
import { openQuota } from '../../storage/api.js';
import { UsageError } from './args.js';
import { EX_NOTFOUND, type DoveadmContext } from './context.js';
import { mailOpts, userSelection, withUserStore } from './mail-user.js';

export const QUOTA_USAGE = 'doveadm quota get [-u <user>|-A] [-S <socket_path>] ';

const kib = (bytes: number): number => Math.ceil(bytes / 1024);

export async function quotaGet(ctx: DoveadmContext, args: readonly string[]): Promise<void> {
  const p = mailOpts(args);
  if (p.rest.length > 0) throw new UsageError('usage');
  const sel = userSelection(p, ctx.io.env ?? process.env);
  const printer = ctx.printer('table');
  if (!sel.single) printer.header({ key: 'username', title: 'Username', hideTitle: true });
  printer.header({ key: 'root', title: 'Quota name' });
  printer.header({ key: 'type', title: 'Type' });
  printer.header({ key: 'value', title: 'Value', rightJustify: true });
  printer.header({ key: 'limit', title: 'Limit', rightJustify: true });
  printer.header({ key: 'percent', title: '%', rightJustify: true });
  const cfg = ctx.config();
  const filter = { protocol: 'doveadm' };
  const plugins = cfg.get('mail_plugins', filter).split(/[\s,]+/).filter((x) => x !== '' && !x.startsWith('$'));
  const plugin = cfg.plugin(filter);
  for await (const user of sel.users(ctx)) {
    if (!sel.single) printer.sticky('username', user);
    await withUserStore(ctx, user, async ({ store, fields }) => {
      const qc = quotaConfig(plugins, plugin, fields);
      if (qc === undefined) {
        ctx.userError(user, 'Quota not enabled');
        ctx.fail(EX_NOTFOUND);
        return;
      }
      const usage = await openQuota(store, quotaRootOf(qc)).usage();
      const rows: [string, number, number][] = [
        ['STORAGE', kib(usage.bytes), kib(qc.root.bytes)],
        ['MESSAGE', usage.count, qc.root.messages],
      ];
      for (const [type, value, limit] of rows) {
        printer.print(qc.name);
        printer.print(type);
        printer.print(String(value));
        printer.print(limit > 0 ? String(limit) : '-');
        printer.print(limit > 0 ? String(Math.floor((value * 100) / limit)) : '0');
      }
    });
  }
}
