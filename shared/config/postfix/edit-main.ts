/*
 * main.cf editing as `postconf -e`, `-X` and `-#` do it (pcf_edit_main, Postfix 3.7), pure:
 * every line that is not part of an edited entry is kept byte for byte (including a missing final
 * newline); an edited entry's first line becomes `name = value` (-e), is dropped (-X) or gets a `#`
 * (-#); its continuation lines are dropped (-e, -X) or commented (-#) while comment and blank lines
 * among them are kept. Every occurrence of a name is edited; the second one draws Postfix's
 * "multiple entries" warning. -e appends names not found, in request order (Postfix uses hash
 * order, which is random per run).
 */
import { splitNameValue } from './main-cf.js';

export type MainEditMode = 'edit' | 'exclude' | 'comment';

export interface MainEditRequest {
  name: string;
  /** Only for mode 'edit'. */
  value?: string;
}

export class EditRequestError extends Error {
  override readonly name = 'EditRequestError';
}

/** Parses command-line edit arguments with postconf's checks and wording. */
export function parseMainEditArgs(mode: MainEditMode, args: readonly string[], warnings: string[]): MainEditRequest[] {
  const reqs = new Map<string, MainEditRequest>();
  for (const raw of args) {
    if (raw.includes('\n')) throw new EditRequestError('-e, -X, or -# accepts no multi-line input');
    const cp = raw.replace(/^[ \t\r\n\v\f]+/, '');
    if (cp.startsWith('#')) throw new EditRequestError('-e, -X, or -# accepts no comment input');
    let req: MainEditRequest;
    if (mode === 'edit') {
      const nv = splitNameValue(cp);
      if (typeof nv === 'string') throw new EditRequestError(`${nv}: "${cp}"`);
      req = { name: nv[0], value: nv[1] };
    } else {
      if (cp === '') throw new EditRequestError('-X or -# requires non-blank parameter names');
      if (cp.includes('=')) throw new EditRequestError('-X or -# requires parameter names without value');
      req = { name: cp.replace(/[ \t\r\n\v\f]+$/, '') };
    }
    const old = reqs.get(req.name);
    if (old) {
      warnings.push(`ignoring earlier request: '${old.name} = ${old.value ?? '(null)'}'`);
      reqs.delete(req.name);
    }
    reqs.set(req.name, req);
  }
  return [...reqs.values()];
}

/** Applies the edit to main.cf text; `path` is used in warnings. */
export function editMainCf(text: string, mode: MainEditMode, reqs: readonly MainEditRequest[], path: string, warnings: string[]): string {
  const table = new Map(reqs.map((r) => [r.name, { req: r, found: 0 }]));
  const pieces = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let out = '';
  let interesting = false;
  for (const line of pieces) {
    const m = /^[ \t\r\n\v\f]*/.exec(line) as RegExpExecArray;
    const rest = line.slice(m[0].length);
    if (rest === '' || rest.startsWith('#')) { out += line; continue; }
    if (m[0].length > 0) {
      if (!interesting) out += line;
      else if (mode === 'comment') out += `#${line}`;
      continue;
    }
    const key = /^[^ \t\r\n\v\f=]*/.exec(line)?.[0] ?? '';
    const hit = table.get(key);
    interesting = hit !== undefined;
    if (!hit) { out += line; continue; }
    if (hit.found++ === 1) warnings.push(`${path}: multiple entries for "${key}"`);
    if (mode === 'edit') out += `${key} = ${hit.req.value}\n`;
    else if (mode === 'comment') out += `#${line}`;
  }
  if (mode === 'edit') {
    for (const { req, found } of table.values()) if (found === 0) out += `${req.name} = ${req.value}\n`;
  }
  return out;
}
