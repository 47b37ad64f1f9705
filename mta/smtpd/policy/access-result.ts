/*
 * What an access(5) table answer means (smtpd_check.c check_table_result): OK or an all-numeric
 * value permits; REJECT/DEFER [text]; `4NN text` / `5NN text` (421 and 521 also disconnect);
 * DEFER_IF_REJECT / DEFER_IF_PERMIT [text] (remembered, "Service unavailable" by default);
 * DUNNO; HOLD and DISCARD (side effects; DISCARD also permits); WARN/INFO (log and continue);
 * PREPEND (a header field for the message); FILTER/REDIRECT/BCC (logged as not supported by
 * Postern, then ignored); anything else is
 * a restriction list, evaluated by the caller with the same reply target. Action names are
 * case-insensitive. Pure apart from the state it updates.
 */
import { splitDsn } from '../../resolve/nexthop.js';
import { DUNNO, PERMIT, deferReply, reject, rejectedText, type EvalState, type Outcome } from './state.js';

export interface AccessCodes {
  accessMapRejectCode: number;
  accessMapDeferCode: number;
}

/** Interprets a table answer; returns undefined when the value is a restriction list. */
export function accessAction(st: EvalState, value: string, table: string, codes: AccessCodes, okAllowed = true, entry = ''): Outcome | undefined {
  const v = value.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(v);
  const word = (m?.[1] ?? '').toUpperCase();
  const text = (m?.[2] ?? '').trim();
  const t = st.target;
  if (word === 'OK' || /^\d+$/.test(v)) {
    if (!okAllowed) {
      st.log.push(`warning: access table ${table}: action OK is not allowed here`);
      return DUNNO;
    }
    return PERMIT;
  }
  switch (word) {
    case 'REJECT':
      return reject(st, codes.accessMapRejectCode, '5.7.1', rejectedText(t, text || 'Access denied'));
    case 'DEFER':
      return reject(st, codes.accessMapDeferCode, '4.7.1', rejectedText(t, text || 'Access denied'));
    case 'DEFER_IF_REJECT':
      st.deferIfReject ??= deferReply(st, codes.accessMapDeferCode, '4.7.1', rejectedText(t, text || 'Service unavailable'));
      return DUNNO;
    case 'DEFER_IF_PERMIT':
      st.deferIfPermit ??= deferReply(st, codes.accessMapDeferCode, '4.7.1', rejectedText(t, text || 'Service unavailable'));
      return DUNNO;
    case 'DUNNO':
      return DUNNO;
    case 'HOLD':
      st.hold ??= `${rejectedText(t, text || 'triggers HOLD action')}`;
      return DUNNO;
    case 'DISCARD':
      st.discard ??= `${rejectedText(t, text || 'triggers DISCARD action')}`;
      return PERMIT;
    case 'WARN':
    case 'INFO':
      st.log.push(`${word === 'WARN' ? 'warn' : 'info'}: ${st.stage.toUpperCase()} from ${st.facts.client.name}[${st.facts.client.addr}]: <${t.name}>: ${t.cls} ${text}`);
      return DUNNO;
    case 'PREPEND':
      // smtpd_check.c: `PREPEND name: value` adds a header field and evaluation goes on; at end of
      // data the header is already with cleanup (observed 3.7.11, checked before the header syntax).
      if (st.stage === 'end-of-data') {
        st.log.push(`warning: access table ${table}: action PREPEND must be used before smtpd_end_of_data_restrictions`);
        return DUNNO;
      }
      if (!/^[!-9;-~]+[ \t]*:/.test(text)) {
        st.log.push(`warning: access table ${table} entry "${entry}" requires header: text`);
        return DUNNO;
      }
      (st.prepend ??= []).push(text);
      return DUNNO;
    case 'FILTER':
    case 'REDIRECT':
    case 'BCC':
      st.log.push(`warning: access table ${table}: action ${word} is not supported by Postern; ignored`);
      return DUNNO;
    default:
      break;
  }
  const num = /^([45]\d\d)(?:\s+|$)([\s\S]*)$/.exec(v);
  if (num) {
    const code = Number(num[1]);
    const d = splitDsn(num[2]!.trim(), code >= 500 ? '5.7.1' : '4.7.1');
    return reject(st, code, d.dsn, rejectedText(t, d.text || 'Access denied'), t.cls, code === 421 || code === 521);
  }
  return undefined;
}
