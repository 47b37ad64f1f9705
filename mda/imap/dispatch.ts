/*
 * The central dispatcher: finds a command in the registry, checks the session state and the
 * argument schema, runs the handler, announces mailbox changes, and writes the tagged completion
 * with Dovecot's texts:
 *  - pre-login (imap-login) every refusal is `BAD Error in IMAP command received by server.`, and
 *    no reply carries a timing suffix;
 *  - post-login an unknown command is `BAD Error in IMAP command X: Unknown command`, a
 *    selected-state command without a mailbox is `BAD No mailbox selected`, a schema failure is
 *    `BAD Error in IMAP command X: Missing arguments|Invalid arguments`, and every tagged reply ends
 *    with ` (t + 0.000 secs).`;
 *  - too many BADs (3 pre-login, 20 after, as Dovecot) end the session with
 *    `* BYE Too many invalid IMAP commands.`
 * Distrusts the command: handlers never see an argument of a kind their schema did not allow.
 */
import type { ArgKind, ArgSchema, CommandSpec, Completion } from './command.js';
import { COMMANDS } from './commands/registry.js';
import { mapError } from './errors.js';
import type { ImapCommand } from './proto/command-parser.js';
import { COMMAND_ERROR_PREFIX, COMMAND_TEXT, commandErrorText, ImapSyntaxError, PRELOGIN_BAD_TEXT } from './proto/errors.js';
import { taggedResponse, withTiming } from './proto/formatter.js';
import type { ImapArg } from './proto/values.js';
import type { ImapSession } from './session.js';
import { mdaEvents } from '../log-events.js';
import { DELETED_UNDER_US_TEXT } from '../storage/api.js';

const BY_NAME = new Map<string, CommandSpec>(COMMANDS.map((c) => [c.name, c]));

export function findCommand(name: string): CommandSpec | undefined {
  return BY_NAME.get(name);
}

function kindOk(kind: ArgKind, a: ImapArg): boolean {
  switch (kind) {
    case 'any':
      return true;
    case 'astring':
      return a.type === 'atom' || a.type === 'quoted' || a.type === 'literal';
    case 'string':
      return a.type === 'quoted' || a.type === 'literal';
    case 'nstring':
      return a.type === 'quoted' || a.type === 'literal' || a.type === 'nil';
    case 'atom':
      return a.type === 'atom';
    case 'list':
      return a.type === 'list';
  }
}

/** Undefined when the arguments fit, else the BAD message. */
export function checkArgs(schema: ArgSchema, args: readonly ImapArg[]): string | undefined {
  const req = schema.required;
  const opt = schema.optional ?? [];
  if (args.length < req.length) return schema.missing ?? 'Missing arguments';
  if (!schema.rest && args.length > req.length + opt.length) return schema.invalid ?? COMMAND_TEXT.invalidArguments;
  const kinds = [...req, ...opt];
  for (let i = 0; i < args.length && i < kinds.length; i++) {
    if (!kindOk(kinds[i]!, args[i]!)) return schema.invalid ?? COMMAND_TEXT.invalidArguments;
  }
  return undefined;
}

function timing(started: bigint): string {
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  return `${secs.toFixed(3)} + 0.000 secs`;
}

/**
 * Dovecot 2.3's count of invalid commands, as observed on 2.3.19 (test/mda/imap/server/
 * bad-commands-interop.test.ts). What the reply to a finished command does to it:
 *  - before login (imap-login): every BAD counts and nothing resets the count; the command that
 *    reaches postern_imap_max_bad_commands_prelogin is answered by `* BYE Too many invalid IMAP
 *    commands.` alone ('bye-instead');
 *  - after login (imap): a command error (`BAD Error in IMAP command …`: unknown command, bad
 *    arguments, a parse error) counts; any other reply, a BAD such as `No mailbox selected`
 *    included, resets the count to 0; the command that reaches postern_imap_max_bad_commands is
 *    answered, then the BYE follows ('bye-after'). Counting every BAD without a reset disconnected a
 *    long-lived session after its twentieth mistake over hours, which Dovecot never does.
 */
export function badCommandVerdict(session: ImapSession, status: string, text: string): 'continue' | 'bye-instead' | 'bye-after' {
  if (session.state === 'not-authenticated') {
    if (status !== 'BAD') return 'continue';
    session.badCommands++;
    const limit = session.settings.postern_imap_max_bad_commands_prelogin;
    return limit > 0 && session.badCommands >= limit ? 'bye-instead' : 'continue';
  }
  if (status !== 'BAD' || !text.startsWith(COMMAND_ERROR_PREFIX)) {
    session.badCommands = 0;
    return 'continue';
  }
  session.badCommands++;
  const limit = session.settings.postern_imap_max_bad_commands;
  return limit > 0 && session.badCommands >= limit ? 'bye-after' : 'continue';
}

/** Writes a tagged reply (`line`, CRLF included) as badCommandVerdict says; true when the session must end. */
export function replyCounted(session: ImapSession, line: string, status: string, text: string): boolean {
  const verdict = badCommandVerdict(session, status, text);
  if (verdict !== 'bye-instead') session.write(line);
  if (verdict === 'continue') return false;
  bye(session, 'Too many invalid IMAP commands.');
  return true;
}

/** `* BYE text`, and `Disconnected: text` in the log when the connection closes (after login). */
function bye(session: ImapSession, text: string): void {
  session.untagged(`BYE ${text}`);
  if (session.state !== 'not-authenticated') session.byeReason = text;
}

/** Dovecot 2.3.19's answer to a command after the selected mailbox was deleted by another session (observed). */
export const SELECTED_DELETED_BYE = 'IMAP session state is inconsistent, please relogin.';

/**
 * A command failed because its selected mailbox was deleted (or renamed away) under the session,
 * answered as Dovecot 2.3.19 does (observed, bad-commands-interop.test.ts): FETCH ends the session
 * with `* BYE FETCH failed: …`, IDLE with the inconsistent-state BYE, CLOSE with an untagged NO and
 * that BYE; any other command gets `NO Mailbox was deleted under us.` and the next one that needs
 * the mailbox ends the session (SelectedMailbox.deleted).
 */
function selectedDeleted(session: ImapSession, name: string, finish: (c: Completion) => DispatchOutcome): DispatchOutcome {
  if (name === 'FETCH') {
    bye(session, `FETCH failed: ${DELETED_UNDER_US_TEXT}`);
    return 'close';
  }
  if (name === 'CLOSE') session.untagged(`NO ${DELETED_UNDER_US_TEXT}`);
  if (name === 'CLOSE' || name === 'IDLE') {
    bye(session, SELECTED_DELETED_BYE);
    return 'close';
  }
  if (session.selected !== undefined) session.selected.deleted = true;
  return finish({ status: 'NO', text: `${DELETED_UNDER_US_TEXT}.` });
}

/** Commands that need no selected mailbox: they still run after selectedDeleted. */
const WITHOUT_MAILBOX = new Set(['SELECT', 'EXAMINE', 'LOGOUT']);

/**
 * After a failure: whether it was the selected mailbox vanishing (deleted or renamed by another
 * session or process). Dovecot then ends the session rather than failing every later command.
 */
async function selectedGone(session: ImapSession): Promise<boolean> {
  const sel = session.selected;
  if (sel === undefined || session.state !== 'selected') return false;
  return !(await sel.view.exists().catch(() => true));
}

/** `detached`: the connection was handed over to a mail worker; the adapter stops serving it. */
export type DispatchOutcome = 'continue' | 'close' | 'detached';

/** Runs one parsed command to completion (tagged reply written). */
export async function dispatch(session: ImapSession, cmd: ImapCommand): Promise<DispatchOutcome> {
  const started = process.hrtime.bigint();
  const preLogin = session.state === 'not-authenticated';
  const finish = (c: Completion): DispatchOutcome => {
    const status = c.status ?? 'OK';
    if (c.silent === true) return session.state === 'logout' ? 'close' : 'continue';
    let text = c.text;
    if (!preLogin) text = withTiming(text, timing(started));
    if (replyCounted(session, taggedResponse(cmd.tag, status, text, c.code), status, c.text)) return 'close';
    return session.state === 'logout' ? 'close' : 'continue';
  };
  const spec = BY_NAME.get(cmd.name);
  if (preLogin) {
    if (spec === undefined || !spec.states.includes('not-authenticated') || checkArgs(spec.args, cmd.args) !== undefined) {
      return finish({ status: 'BAD', text: PRELOGIN_BAD_TEXT });
    }
  } else {
    if (spec === undefined || !spec.states.some((s) => s !== 'not-authenticated')) {
      return finish({ status: 'BAD', text: commandErrorText('Unknown command', cmd.name, true) });
    }
    if (!spec.states.includes(session.state)) {
      return finish({ status: 'BAD', text: 'No mailbox selected' });
    }
    const argErr = checkArgs(spec.args, cmd.args);
    if (argErr !== undefined) return finish({ status: 'BAD', text: commandErrorText(argErr, cmd.name, true) });
  }
  if (session.selected?.deleted === true && session.state === 'selected' && !WITHOUT_MAILBOX.has(cmd.name)) {
    bye(session, SELECTED_DELETED_BYE);
    return 'close';
  }
  let result: Completion;
  try {
    result = await spec.run({ session, tag: cmd.tag, name: cmd.name, uid: cmd.uid, args: cmd.args });
  } catch (err) {
    if (err instanceof ImapSyntaxError) {
      result = { status: 'BAD', text: preLogin ? PRELOGIN_BAD_TEXT : commandErrorText(err.message, cmd.name, true) };
    } else if (await selectedGone(session)) {
      return selectedDeleted(session, cmd.name, finish);
    } else {
      const m = mapError(err);
      if (m.log !== undefined) session.log.error(mdaEvents.mail.imapInternalError(cmd.name, m.log));
      result = { status: m.error.status, text: m.error.text, ...(m.error.code ? { code: m.error.code } : {}) };
    }
  }
  if (result.handOff !== undefined) {
    await result.handOff(cmd.tag);
    return 'detached';
  }
  if (session.selected !== undefined && session.state === 'selected') {
    try {
      // A no-expunge command (FETCH, STORE, SEARCH) announces nothing from others, but live
      // searches (RFC 5267) still learn what this command changed, as Dovecot reports after STORE.
      if (spec.sync === 'full') await session.announceChanges(cmd.uid);
      else await session.sendSearchUpdates();
    } catch (err) {
      if (await selectedGone(session)) {
        bye(session, SELECTED_DELETED_BYE);
        return 'close';
      }
      const m = mapError(err);
      if (m.log !== undefined) session.log.error(mdaEvents.mail.imapInternalError(cmd.name, m.log));
    }
  }
  return finish(result);
}
