/*
 * The `subscriptions` file (Dovecot 2.3 subscription-file.c): `V\t2\n\n` then one name per line,
 * storage form (modified UTF-7 components) with the hierarchy separator written as TAB. Changed
 * under `subscriptions.lock` and replaced atomically. Version 1 files (no header) are read and
 * rewritten as version 2 on the next change.
 *
 * Distrusts: the file (undecodable lines are kept on rewrite but not reported).
 */
import { readFile } from 'node:fs/promises';
import { acquireDotlock } from './dotlock.js';
import { formatSubscriptions, parseSubscriptions } from './control-files.js';
import { decodeComponent, encodeComponent, type NameRules } from './names.js';

export class SubscriptionsFile {
  constructor(readonly path: string, private readonly rules: NameRules) {}

  private async raw(): Promise<string[][]> {
    try {
      return parseSubscriptions(await readFile(this.path, 'utf8'), '.');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Subscribed names as clients see them. */
  async read(): Promise<string[]> {
    const out: string[] = [];
    for (const parts of await this.raw()) {
      try {
        const dec = parts.map((p) => (p === 'INBOX' && parts.length === 1 ? p : decodeComponent(p, this.rules)));
        out.push(dec.join(this.rules.separator));
      } catch {
        /* undecodable: skip */
      }
    }
    return out;
  }

  async change(parts: readonly string[], subscribe: boolean): Promise<void> {
    const enc = parts.map((p) => encodeComponent(p, this.rules));
    const key = enc.join('\t');
    const lock = await acquireDotlock(this.path, { staleSecs: 120 });
    try {
      const cur = await this.raw();
      const has = cur.some((p) => p.join('\t') === key);
      if (has === subscribe) return;
      const next = subscribe ? [...cur, enc] : cur.filter((p) => p.join('\t') !== key);
      await lock.replace(formatSubscriptions(next));
    } finally {
      await lock.release();
    }
  }
}
