/*
 * master.cf editing as postconf -M/-F/-P with -e, -X and -# do it (pcf_edit_master, Postfix 3.7),
 * pure. Lines outside the edited entries are kept byte for byte; an edited entry is re-printed in
 * postconf's folded -Mf layout; -X drops the entry's lines and -# prefixes them with `#`; comment
 * and blank lines inside an entry are kept. -M svc/type=line replaces the first matching entry (or
 * the entry with the new line's name/type) and appends the line when nothing matched.
 * Errors throw EditRequestError with postconf's fatal text.
 */
import { splitNameValue } from './main-cf.js';
import { parseMasterLine, checkMasterFields, splitQuoted, normalizeDaemonArgs, MASTER_FIELD_NAMES } from './master-cf.js';
import { formatMasterEntry } from './format.js';
import { EditRequestError, type MainEditMode } from './edit-main.js';

export type MasterEditKind = 'M' | 'F' | 'P';

interface Req {
  raw: string;
  pattern: string[];
  value?: string;
  field?: number;
  count: number;
}

const EDIT_OPTS = '-Me, -Fe, -Pe, -X, or -#';
const hasBlank = (s: string): boolean => /[ \t\r\n]/.test(s);

function parseEntryOrThrow(text: string, raw: string): string[] {
  try {
    return parseMasterLine(text);
  } catch (e) {
    const m = (e as Error).message;
    throw new EditRequestError(m === 'bad field count' ? `${m}: "${raw}"` : m);
  }
}

function parseReqs(kind: MasterEditKind, mode: MainEditMode, args: readonly string[]): Req[] {
  return args.map((raw) => {
    if (raw.includes('\n')) throw new EditRequestError(`${EDIT_OPTS} accept no multi-line input`);
    const cp = raw.replace(/^[ \t\r\n\v\f]+/, '');
    if (cp.startsWith('#')) throw new EditRequestError(`${EDIT_OPTS} accept no comment input`);
    let pat: string;
    let value: string | undefined;
    if (mode === 'edit') {
      const nv = splitNameValue(cp);
      if (typeof nv === 'string') throw new EditRequestError(`${nv}: "${raw}"`);
      [pat, value] = nv;
    } else {
      if (cp.includes('=')) throw new EditRequestError('-X or -# requires names without value');
      pat = cp.replace(/[ \t\r\n\v\f]+$/, '');
    }
    const parts = pat.split('/');
    const want = kind === 'M' ? 2 : 3;
    if (parts.length !== want || parts.some((p) => p === '')) {
      throw new EditRequestError(kind === 'M' ? '-Me, -MX or -M# requires service_name/type'
        : kind === 'F' ? '-Fe or -FX requires service_name/type/field_name'
          : '-Pe or -PX requires service_name/type/parameter');
    }
    const req: Req = { raw, pattern: parts, count: 0 };
    if (value !== undefined) req.value = value;
    if (kind === 'F') {
      if (parts[2] === '*') throw new EditRequestError('-Fe does not accept wild-card field name');
      const field = (MASTER_FIELD_NAMES as readonly string[]).indexOf(parts[2] as string);
      if (field < 0) throw new EditRequestError(`invalid service attribute name: "${parts[2]}"`);
      if (mode === 'edit' && field < 7 && hasBlank(value ?? '')) throw new EditRequestError('-Fe does not accept whitespace in non-command field');
      req.field = field;
    }
    if (kind === 'P') {
      if (parts[2] === '*') throw new EditRequestError('-Pe does not accept wild-card parameter name');
      if (mode === 'edit' && hasBlank(value ?? '')) throw new EditRequestError('-Pe does not accept whitespace in parameter value');
    }
    return req;
  });
}

const matches = (pat: readonly string[], name: string, type: string): boolean =>
  (pat[0] === '*' || pat[0] === name) && (pat[1] === '*' || pat[1] === type);

function editField(argv: string[], field: number, value: string): string[] {
  let a: string[];
  if (field === 7) a = normalizeDaemonArgs([...argv.slice(0, 7), ...splitQuoted(value)]);
  else { a = [...argv]; a[field] = value; }
  const err = checkMasterFields(a, value);
  if (err) throw new EditRequestError(err);
  return a;
}

function editParam(argv: string[], mode: MainEditMode, name: string, value: string | undefined): string[] {
  const a = [...argv];
  let match = false;
  let f = 8;
  for (; f < a.length; f++) {
    const arg = a[f] as string;
    if (!arg.startsWith('-') || arg === '--') break;
    if (arg[1] === 'o' && f + 1 < a.length) {
      const aval = a[f + 1] as string;
      if (arg === '-o' && aval.startsWith(`${name}=`)) {
        match = true;
        if (mode === 'edit') a[f + 1] = `${name}=${value}`;
        else { a.splice(f, 2); f -= 2; }
      }
      f += 1;
    }
  }
  if (mode === 'edit' && !match) a.splice(f, 0, '-o', `${name}=${value}`);
  return a;
}

/** Applies a master.cf edit; returns the new file text. */
export function editMasterCf(text: string, kind: MasterEditKind, mode: MainEditMode, args: readonly string[], path: string, warnings: string[]): string {
  const reqs = parseReqs(kind, mode, args);
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let out = '';
  let matched = false;
  const isInfo = (l: string): boolean => { const t = l.replace(/^[ \t\r\n\v\f]+/, ''); return t !== '' && !t.startsWith('#'); };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (!isInfo(line)) { out += line; continue; }
    if (/^[ \t\r\n\v\f]/.test(line)) {
      if (!matched) out += line;
      else if (mode === 'comment') out += `#${line}`;
      continue;
    }
    matched = false;
    const toks = line.split(/[ \t\r\n]+/).filter((t) => t !== '');
    const [name, type] = toks;
    if (name === undefined || type === undefined) throw new EditRequestError(`file ${path}: line ${i + 1}: specify service name and type on the same line`);
    if (name.includes('=')) throw new EditRequestError(`file ${path}: line ${i + 1}: service name syntax "${name}" is unsupported with ${EDIT_OPTS}`);
    if (/[=/]/.test(type)) throw new EditRequestError(`file ${path}: line ${i + 1}: service type syntax "${type}" is unsupported with ${EDIT_OPTS}`);
    let entry: string[] | undefined;
    for (const req of reqs) {
      const tentative = kind === 'M' && mode === 'edit' ? parseEntryOrThrow(req.value as string, req.raw) : undefined;
      let use = false;
      if (matches(req.pattern, name, type)) {
        matched = true;
        req.count++;
        if (mode === 'edit' || (kind === 'P' && mode === 'exclude')) {
          if (kind === 'M') use = req.count === 1;
          else {
            if (entry === undefined) {
              let full = line;
              while (i + 1 < lines.length && /^[ \t\r\n\v\f#]/.test(lines[i + 1] as string)) {
                const next = lines[++i] as string;
                if (isInfo(next)) full += next;
                else out += next;
              }
              entry = parseEntryOrThrow(full, full);
            }
            entry = kind === 'F' ? editField(entry, req.field as number, req.value as string) : editParam(entry, mode, req.pattern[2] as string, req.value);
          }
        }
      } else if (tentative && tentative[0] === name && tentative[1] === type) {
        matched = true;
        req.count++;
        use = req.count === 1;
      }
      if (tentative && use) entry = tentative;
    }
    if (entry) out += formatMasterEntry(entry, true);
    else if (!matched) out += line;
    else if (mode === 'comment') out += `#${line}`;
  }
  for (const req of reqs) {
    if (req.count > 0) continue;
    if (kind === 'M' && mode === 'edit') out += formatMasterEntry(parseEntryOrThrow(req.value as string, req.raw), true);
    else if (kind !== 'M') warnings.push(`unmatched service_name/type: "${req.raw}"`);
  }
  return out;
}
