/*
 * CANCELUPDATE (RFC 5267 §4.3): ends the live searches named by their tags. As Dovecot 2.3's
 * cmd-cancelupdate.c: every argument must be a non-empty quoted string ("Invalid parameters",
 * BAD); tags are removed left to right and the first unknown one stops with `NO Unknown tag`
 * (the ones before it stay cancelled); success is `OK Updates cancelled.`.
 */
import { SELECTED, type CommandSpec, type Completion } from '../command.js';
import { ImapSyntaxError } from '../proto/errors.js';

export const cancelUpdateCommand: CommandSpec = {
  name: 'CANCELUPDATE',
  states: SELECTED,
  args: { required: [], rest: true },
  sync: 'full',
  async run({ session, args }): Promise<Completion> {
    if (args.length === 0 || args.some((a) => a.type !== 'quoted' || a.value === '')) throw new ImapSyntaxError('Invalid parameters');
    for (const a of args) {
      const tag = (a as { value: string }).value;
      const i = session.liveSearches.findIndex((s) => s.tag === tag);
      if (i < 0) return { status: 'NO', text: 'Unknown tag' };
      session.liveSearches.splice(i, 1);
    }
    return { text: 'Updates cancelled.' };
  },
};
