/*
 * cidr:FILE (Postfix cidr_table(5), dict_cidr.c): first matching rule wins.
 *
 *   network/prefix  result     IPv4 or IPv6; IPv6 may be written [2001:db8::]/32 or [2001:db8::1]
 *   address         result     a host (prefix 32 / 128)
 *   !network/prefix result     3.2+: matches addresses of the same family NOT in the network
 *   if network/prefix … endif  3.2+, nestable; `if !…` too
 *
 * A key that is not a valid address matches nothing (not even negated rules), and an IPv4 key never
 * matches an IPv6 rule or the reverse (::ffff:1.2.3.4 is an IPv6 key). Bad rules are dropped with
 * Postfix's warnings (`non-null host address bits …`, `bad address pattern`, `bad mask length`).
 * Distrusts: the file and the key (parsed strictly: no octal, no zone ids).
 */
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { strerror } from '../../errors/config-error.js';
import { TableOpenError } from './errors.js';
import { logicalLines } from './source-file.js';
import { takeStamp, stampChanged, type FileStamp } from './file-stamp.js';
import type { LookupTable, OpenTableOptions } from './table.js';

export interface CidrNet {
  readonly bytes: number[];
  readonly prefix: number;
}

/** Parses a key the way Postfix accepts a client address; undefined when invalid. */
export function parseAddress(text: string): number[] | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toByteArray();
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text).toByteArray();
  return undefined;
}

export function inNet(addr: readonly number[], net: CidrNet): boolean {
  if (addr.length !== net.bytes.length) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[i] as number) & mask) !== ((net.bytes[i] as number) & mask)) return false;
  }
  return true;
}

function formatBytes(bytes: number[]): string {
  return bytes.length === 4 ? bytes.join('.') : ipaddr.fromByteArray(bytes).toString();
}

/** Parses `net/len`, `[v6]/len`, `addr`, `[v6]`; returns the network or a Postfix complaint. */
export function parseCidrPattern(pattern: string): CidrNet | string {
  let text = pattern;
  let len: string | undefined;
  const slash = text.lastIndexOf('/');
  if (slash >= 0) {
    len = text.slice(slash + 1);
    text = text.slice(0, slash);
  }
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const bytes = parseAddress(text);
  if (bytes === undefined) return `bad address pattern: "${pattern}"`;
  const max = bytes.length * 8;
  let prefix = max;
  if (len !== undefined) {
    if (!/^\d+$/.test(len) || Number(len) > max) return `bad mask length in "${pattern}"`;
    prefix = Number(len);
  }
  const net = { bytes, prefix };
  const clean = bytes.map((b, i) => {
    const bits = prefix - i * 8;
    return bits >= 8 ? b : bits <= 0 ? 0 : b & ((0xff << (8 - bits)) & 0xff);
  });
  if (clean.some((b, i) => b !== bytes[i])) {
    const suggest = `${formatBytes(clean)}/${prefix}`;
    return `non-null host address bits in "${pattern}", perhaps you should use "${bytes.length === 16 && pattern.startsWith('[') ? `[${formatBytes(clean)}]/${prefix}` : suggest}" instead`;
  }
  return net;
}

interface CidrRule {
  readonly kind: 'match' | 'if' | 'endif';
  readonly line: number;
  readonly negate: boolean;
  readonly net?: CidrNet;
  readonly result?: string;
  skipTo?: number;
}

export function parseCidrRules(text: string, file: string, warn: (m: string) => void): CidrRule[] {
  const where = (line: number): string => `cidr map ${file}, line ${line}`;
  const rules: CidrRule[] = [];
  const open: number[] = [];
  for (const ll of logicalLines(text, file, warn)) {
    let body = ll.text.trim();
    const first = /^\S+/.exec(body)?.[0] ?? '';
    if (first.toLowerCase() === 'endif') {
      const at = open.pop();
      if (at === undefined) {
        warn(`${where(ll.line)}: ignoring ENDIF without matching IF`);
        continue;
      }
      rules.push({ kind: 'endif', line: ll.line, negate: false });
      (rules[at] as CidrRule).skipTo = rules.length;
      continue;
    }
    const isIf = first.toLowerCase() === 'if';
    if (isIf) body = body.slice(2).trim();
    let negate = false;
    if (body.startsWith('!')) {
      negate = true;
      body = body.slice(1).trimStart();
    }
    const m = /^(\S+)\s*(.*)$/s.exec(body);
    const pattern = m?.[1] ?? '';
    const result = (m?.[2] ?? '').trim();
    const net = parseCidrPattern(pattern);
    if (typeof net === 'string') {
      warn(`${where(ll.line)}: ${net}: skipping this rule`);
      continue;
    }
    if (isIf) {
      open.push(rules.length);
      rules.push({ kind: 'if', line: ll.line, negate, net });
      continue;
    }
    if (result === '') {
      warn(`${where(ll.line)}: no lookup result: skipping this rule`);
      continue;
    }
    rules.push({ kind: 'match', line: ll.line, negate, net, result });
  }
  for (const at of open.reverse()) {
    warn(`${where((rules[at] as CidrRule).line)}: IF has no matching ENDIF`);
    (rules[at] as CidrRule).skipTo = rules.length;
  }
  return rules;
}

export function evaluateCidr(rules: readonly CidrRule[], key: string): string | undefined {
  const addr = parseAddress(key);
  if (addr === undefined) return undefined;
  for (let i = 0; i < rules.length; ) {
    const r = rules[i] as CidrRule;
    if (r.kind === 'endif') {
      i++;
      continue;
    }
    const net = r.net as CidrNet;
    const sameFamily = net.bytes.length === addr.length;
    const hit = sameFamily && (r.negate ? !inNet(addr, net) : inNet(addr, net));
    if (r.kind === 'if') {
      i = hit ? i + 1 : (r.skipTo ?? rules.length);
      continue;
    }
    if (hit) return r.result;
    i++;
  }
  return undefined;
}

export class CidrTable implements LookupTable {
  readonly type = 'cidr';
  readonly spec: string;
  private readonly stamp: FileStamp;
  private constructor(
    readonly name: string,
    private readonly rules: CidrRule[],
  ) {
    this.spec = `cidr:${name}`;
    this.stamp = takeStamp(name);
  }

  static open(name: string, opts: OpenTableOptions = {}): CidrTable {
    let text: string;
    try {
      text = readFileSync(name, 'utf8');
    } catch (err) {
      throw new TableOpenError(`open ${name}: ${strerror(err)}`);
    }
    return new CidrTable(name, parseCidrRules(text, name, opts.warn ?? (() => undefined)));
  }

  lookup(key: string): string | undefined {
    return evaluateCidr(this.rules, key);
  }
  changed(): boolean {
    return stampChanged(this.stamp);
  }
  close(): void {}
}
