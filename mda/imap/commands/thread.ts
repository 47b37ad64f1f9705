/*
 * THREAD and UID THREAD (RFC 5256 §4: `THREAD algorithm charset search-keys`) with the algorithms
 * Dovecot 2.3 offers: ORDEREDSUBJECT, REFERENCES and REFS (thread/). Dovecot's texts:
 * "Invalid arguments." (algorithm or charset not a string), "Unknown thread algorithm.",
 * "Missing search parameters", `OK Thread completed.`.
 * Distrusts: the arguments (search keys through proto/search-keys.ts) and every header it reads.
 */
import { SELECTED, type CommandContext, type CommandSpec, type Completion } from '../command.js';
import { firstField } from '../message/header.js';
import { ImapSyntaxError } from '../proto/errors.js';
import { parseSearchProgram } from '../proto/search-keys.js';
import { argAstring } from '../proto/values.js';
import { searchMessages } from '../search/evaluate.js';
import { baseSubject } from '../sort/base-subject.js';
import { collectFacts, type MessageFacts } from '../sort/collect.js';
import { sentDateOf } from '../sort/sort-values.js';
import { formatThread } from '../thread/format.js';
import { firstMessageId, messageIds } from '../thread/message-id.js';
import { threadOrderedSubject } from '../thread/ordered-subject.js';
import { threadReferences, threadRefs, type ThreadInput } from '../thread/tree.js';
import { charsetKnown, usesModseq } from './search.js';

const ALGORITHMS = ['ORDEREDSUBJECT', 'REFERENCES', 'REFS'] as const;

function threadInput(f: MessageFacts): ThreadInput {
  const h = f.header;
  let references = messageIds(firstField(h, 'References')?.value);
  if (references.length === 0) {
    const irt = firstMessageId(firstField(h, 'In-Reply-To')?.value);
    references = irt === undefined ? [] : [irt];
  }
  return {
    uid: f.m.uid,
    messageId: firstMessageId(firstField(h, 'Message-ID')?.value),
    references,
    subject: firstField(h, 'Subject')?.value,
    date: sentDateOf(h) || f.arrival,
  };
}

export async function runThread(ctx: CommandContext): Promise<Completion> {
  const { session } = ctx;
  const sel = session.selected!;
  const algorithm = argAstring(ctx.args[0]);
  const charset = argAstring(ctx.args[1]);
  if (algorithm === undefined || charset === undefined) throw new ImapSyntaxError('Invalid arguments.');
  const algo = ALGORITHMS.find((a) => a === algorithm.toUpperCase());
  if (algo === undefined) throw new ImapSyntaxError('Unknown thread algorithm.');
  if (ctx.args.length <= 2) throw new ImapSyntaxError('Missing search parameters');
  const prog = parseSearchProgram(ctx.args.slice(2));
  if (!charsetKnown(charset)) return { status: 'NO', text: 'Unknown charset', code: { name: 'BADCHARSET' } };
  if (usesModseq(prog.key) && !sel.condstore) {
    sel.condstore = true;
    session.untagged(`OK [HIGHESTMODSEQ ${sel.view.highestModseq}] Highest`);
  }
  const found = await searchMessages({ view: sel.view, saved: session.savedUids, now: Date.now() }, prog.key);
  const facts = await collectFacts(sel.view, found, { size: false, arrival: true });
  const show = (uid: number): number => (ctx.uid ? uid : sel.view.byUid(uid)?.seq ?? 0);
  if (algo === 'ORDEREDSUBJECT') {
    const roots = threadOrderedSubject(facts.map((f) => {
      const subj = firstField(f.header, 'Subject')?.value;
      return { id: f.m.uid, seq: f.m.seq, base: subj === undefined ? '' : baseSubject(subj).base, date: sentDateOf(f.header) || f.arrival };
    }));
    session.untagged(formatThread(roots, show));
  } else {
    const inputs = facts.map(threadInput);
    session.untagged(formatThread(algo === 'REFERENCES' ? threadReferences(inputs) : threadRefs(inputs), show));
  }
  return { text: 'Thread completed.' };
}

export const threadCommand: CommandSpec = {
  name: 'THREAD',
  states: SELECTED,
  args: { required: ['any'], rest: true, missing: 'Missing argument' },
  sync: 'no-expunge',
  run: runThread,
};
