/*
 * The public door to dovecot.conf (2.3) for the MDA's daemons and tools: load a configuration (includes and all)
 * and read typed settings with Dovecot's defaults, per filter (`protocol imap`, local/remote IP, local_name), and
 * the passdb / userdb / namespace / service / plugin sections.
 *
 * Values come back as doveconf prints them (`2 secs`, `64 k`, `0600`); the typed getters parse those. `%`
 * variables stay verbatim (expand them with var-expand.ts); `<file` values stay `<file` unless readFileValue().
 * Distrusts: the files (see parser.ts); callers' keys are checked against the catalogue.
 * Top-level reads can be observed (setDovecotConfigReadObserver) so a test can list the settings a code path
 * asks a DovecotConfig for; when nobody observes, a configuration is built exactly as without the hook.
 */
import { readFileSync } from 'node:fs';
import { fsConfigSource } from './fs-source.js';
import { parseNet, type FilterSpec, type ParsedDovecotConfig } from './model.js';
import { parseDovecotConfig, type ParseOptions } from './parser.js';
import { escapeSectionName, idKey, isGlobalSetting, templateKeys, unescapeSectionName, LIST_KINDS } from './schema.js';
import { parseBool, parseSize, parseTime } from './values.js';
import { mergedView, type ConfigView, type FilterQuery } from './view.js';

/** Connection facts used to pick filter blocks; IPs as text. */
export interface DovecotFilter {
  readonly protocol?: string;
  readonly localIp?: string;
  readonly remoteIp?: string;
  readonly localName?: string;
}

export interface DovecotSection {
  /** Section type: passdb, userdb, namespace, mailbox, service, unix_listener, fifo_listener, inet_listener. */
  readonly type: string;
  /** The name written after the type (`inbox`, `auth`, `/var/spool/postfix/private/auth`); '' when none. */
  readonly name: string;
  /** Value of a setting of this section, default filled in. */
  get(key: string): string;
  /** Whether the configuration set it explicitly. */
  isSet(key: string): boolean;
  /** Every setting of this section with its effective value, in Dovecot's order (child sections excluded). */
  settings(): ReadonlyMap<string, string>;
  /** Child sections: `mailbox` of a namespace, `unix_listener`/`inet_listener`/`fifo_listener` of a service. */
  sections(type: string): DovecotSection[];
}

export interface DovecotConfig {
  readonly path: string;
  readonly parsed: ParsedDovecotConfig;
  /** The filters the configuration defines, in file order (global excluded). */
  readonly filters: readonly FilterSpec[];
  /** A top-level setting (default filled in); throws on a name Dovecot 2.3 does not know. */
  get(key: string, filter?: DovecotFilter): string;
  isSet(key: string, filter?: DovecotFilter): boolean;
  getBool(key: string, filter?: DovecotFilter): boolean;
  getUint(key: string, filter?: DovecotFilter): number;
  /** Time settings in seconds. */
  getSeconds(key: string, filter?: DovecotFilter): number;
  /** Size settings in bytes. */
  getBytes(key: string, filter?: DovecotFilter): bigint;
  /** `protocols` split into names. */
  protocols(): string[];
  passdbs(filter?: DovecotFilter): DovecotSection[];
  userdbs(filter?: DovecotFilter): DovecotSection[];
  namespaces(filter?: DovecotFilter): DovecotSection[];
  /** All services, built-in ones included (Dovecot defines ~30 even in an empty config). */
  services(): DovecotSection[];
  service(name: string): DovecotSection | undefined;
  /** plugin { } settings. */
  plugin(filter?: DovecotFilter): ReadonlyMap<string, string>;
  /** The raw view for a filter (export paths such as `service/lmtp/unix_listener/lmtp/mode`). */
  view(filter?: DovecotFilter): ConfigView;
}

function toQuery(f: DovecotFilter | undefined): FilterQuery {
  if (f === undefined) return {};
  const net = (ip: string | undefined) => {
    if (ip === undefined) return undefined;
    const n = parseNet(ip);
    return typeof n === 'string' ? undefined : n;
  };
  return {
    ...(f.protocol !== undefined ? { protocol: f.protocol } : {}),
    ...(f.localName !== undefined ? { localName: f.localName } : {}),
    ...(net(f.localIp) !== undefined ? { local: net(f.localIp) } : {}),
    ...(net(f.remoteIp) !== undefined ? { remote: net(f.remoteIp) } : {}),
  };
}

function section(view: ConfigView, type: string, prefix: string, id: string): DovecotSection {
  const base = `${prefix}${type}/${id}/`;
  const nameKey = type === 'passdb' || type === 'userdb' ? 'name' : idKey(type);
  return {
    type,
    name: view.isSet(base + nameKey) ? view.get(base + nameKey) : unescapeSectionName(/^\d+$/.test(id) ? '' : id),
    get: (key) => view.get(base + key),
    isSet: (key) => view.isSet(base + key),
    settings: () => new Map(templateKeys(type).filter((k) => !LIST_KINDS.has(k)).map((k) => [k, view.get(base + k)])),
    sections: (child) => view.listIds(`${base}${child}`).map((cid) => section(view, child, base, cid)),
  };
}

/** Called with the name of every top-level setting a DovecotConfig is asked about (get/isSet and the typed getters). */
export type DovecotConfigReadObserver = (name: string) => void;

let processObserver: DovecotConfigReadObserver | undefined;

/**
 * Observes top-level reads (get, isSet, getBool…, protocols) of every DovecotConfig built from now on (tests: which
 * settings does startMda, or a tool, read?). Section settings and raw view() reads are not reported. Returns the
 * previous observer, to restore it; pass undefined to stop.
 */
export function setDovecotConfigReadObserver(observer: DovecotConfigReadObserver | undefined): DovecotConfigReadObserver | undefined {
  const previous = processObserver;
  processObserver = observer;
  return previous;
}

/** Wraps an already parsed configuration. */
export function dovecotConfigFromParsed(parsed: ParsedDovecotConfig): DovecotConfig {
  const observe = processObserver;
  const viewFor = (f?: DovecotFilter): ConfigView => mergedView(parsed, toQuery(f));
  const checked = (key: string): string => {
    if (!isGlobalSetting(key)) throw new Error(`Unknown setting: ${key}`);
    observe?.(key);
    return key;
  };
  const list = (type: string, f?: DovecotFilter): DovecotSection[] => {
    const v = viewFor(f);
    return v.listIds(type).map((id) => section(v, type, '', id));
  };
  const cfg: DovecotConfig = {
    path: parsed.path,
    parsed,
    filters: parsed.blocks.slice(1).map((b) => b.filter),
    get: (key, f) => viewFor(f).get(checked(key)),
    isSet: (key, f) => viewFor(f).isSet(checked(key)),
    getBool: (key, f) => parseBool(cfg.get(key, f)) ?? false,
    getUint: (key, f) => Number(cfg.get(key, f)),
    getSeconds: (key, f) => {
      const t = parseTime(cfg.get(key, f));
      return typeof t === 'number' ? t : 0;
    },
    getBytes: (key, f) => parseSize(cfg.get(key, f)) ?? 0n,
    protocols: () => cfg.get('protocols').split(/[ \t,]+/).filter((p) => p !== ''),
    passdbs: (f) => list('passdb', f),
    userdbs: (f) => list('userdb', f),
    namespaces: (f) => list('namespace', f),
    services: () => list('service'),
    service: (name) => {
      const v = viewFor();
      const id = escapeSectionName(name);
      return v.listIds('service').includes(id) ? section(v, 'service', '', id) : undefined;
    },
    plugin: (f) => {
      const v = viewFor(f);
      return new Map((v.strlistKeys('plugin') ?? []).map((k) => [k, v.get(`plugin/${k}`)]));
    },
    view: viewFor,
  };
  return cfg;
}

/** Reads and parses dovecot.conf at `path` with its includes; throws ConfigSyntaxError as Dovecot words it. */
export function loadDovecotConfig(path: string, opts: ParseOptions = {}): DovecotConfig {
  return dovecotConfigFromParsed(parseDovecotConfig(path, fsConfigSource, opts));
}

/** Reads a `<file` value's file (Dovecot reads it verbatim); other values come back unchanged. */
export function readFileValue(value: string): string {
  return value.startsWith('<') ? readFileSync(value.slice(1), 'utf8') : value;
}
