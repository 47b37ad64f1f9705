/*
 * Loads main.cf and answers "what is the value of parameter X" the way a Postfix program does:
 * the main.cf (or -o override) value if set, else the built-in default, then fully expanded
 * ($name, ${name?..}, relational forms) with undefined names as "".
 *
 * This is the API other components use (postmap, postalias, the MTA daemons):
 *   loadPostfixConfig({ configDir, overrides }) -> PostfixConfig; splitList(value).
 * Only loadPostfixConfig reads files; postfixConfigFromText is pure (apart from host defaults,
 * which can be injected). Reads can be observed (ConfigOptions.onRead, or process-wide with
 * setConfigReadObserver) so a test can list the parameters a code path reads; when nobody
 * observes, the config is built exactly as without the option. Distrusts main.cf: syntax errors
 * throw ConfigSyntaxError; a missing file throws ConfigOpenError (`open DIR/main.cf: No such file or directory`).
 */
import { readFileSync } from 'node:fs';
import { ConfigOpenError, strerror } from '../../errors/config-error.js';
import { parseMainCf, type MainCf } from './main-cf.js';
import { expandOrThrow } from './expand.js';
import { builtinDefault, realHostInfo, type HostInfo } from './defaults.js';
import { defaultMyDomain } from './host-defaults.js';
import { splitList, parseBool, parseTime, parseIntValue, type TimeUnit } from './values.js';

export { splitList } from './values.js';

export const DEFAULT_CONFIG_DIR = '/etc/postfix';

export interface PostfixConfig {
  readonly configDir: string;
  /** Path of main.cf as used in messages. */
  readonly mainCfPath: string;
  readonly mainCf: MainCf;
  /** Fully expanded value, default applied; "" for unknown names. Throws MacroExpansionError on bad syntax. */
  get(name: string): string;
  /** The value as written in main.cf (or given as an override), unexpanded; undefined when not set. */
  raw(name: string): string | undefined;
  /** The unexpanded value in effect: raw() if set, else the built-in default text. */
  text(name: string): string | undefined;
  getList(name: string): string[];
  getBool(name: string): boolean;
  getTime(name: string, defUnit?: TimeUnit): number;
  getInt(name: string): number;
}

export interface ConfigOptions {
  configDir: string;
  overrides?: Record<string, string>;
  /** Extra defaults consulted before the built-in catalogue (e.g. master.cf-derived names). */
  extraDefaults?: (name: string) => string | undefined;
  host?: HostInfo;
  /** How main.cf bytes become a string: 'utf8' (default) or 'latin1' (byte-exact, for editors). */
  encoding?: 'utf8' | 'latin1';
  /**
   * Called with every parameter name the configuration is asked about: get/getList/getBool/getTime/
   * getInt/raw/text, and each `$name` a value's expansion looks up (so `mail_name` counts when
   * smtpd_banner's default is read). Default: the process-wide observer, if one is set.
   */
  onRead?: ConfigReadObserver;
}

export type ConfigReadObserver = (name: string) => void;

let processObserver: ConfigReadObserver | undefined;

/**
 * Observes every PostfixConfig built from now on without its own onRead (tests: which parameters
 * does startMta, or a tool, read?). Returns the previous observer, to restore it; pass undefined to stop.
 */
export function setConfigReadObserver(observer: ConfigReadObserver | undefined): ConfigReadObserver | undefined {
  const previous = processObserver;
  processObserver = observer;
  return previous;
}

/** Builds a PostfixConfig from main.cf text (pure apart from the default host info). */
export function postfixConfigFromText(text: string, opts: ConfigOptions & { file?: string }): PostfixConfig {
  const file = opts.file ?? `${opts.configDir}/main.cf`;
  const mainCf = parseMainCf(text, file);
  const values = new Map(mainCf.params);
  values.set('config_directory', opts.configDir);
  for (const [k, v] of Object.entries(opts.overrides ?? {})) values.set(k, v);
  const host = opts.host ?? realHostInfo();
  const cache = new Map<string, string>();

  const lookupText = (name: string): string | undefined => {
    const v = values.get(name);
    if (v !== undefined) return v;
    const extra = opts.extraDefaults?.(name);
    if (extra !== undefined) return extra;
    // Postfix completes a dotless host name with an explicitly set mydomain, and derives the
    // mydomain default from the effective myhostname.
    if (name === 'myhostname' && host.myhostname.endsWith('.localdomain') && values.has('mydomain')) {
      return `${host.myhostname.replace(/\.localdomain$/, '')}.${cfg.get('mydomain')}`;
    }
    if (name === 'mydomain') return defaultMyDomain(cfg.get('myhostname'));
    return builtinDefault(name, host, () => cfg.get('mynetworks_style'));
  };
  const observe = opts.onRead ?? processObserver;
  const lookup = observe === undefined ? lookupText : (name: string) => (observe(name), lookupText(name));
  const cfg: PostfixConfig = {
    configDir: opts.configDir,
    mainCfPath: file,
    mainCf,
    raw: observe === undefined ? (name) => values.get(name) : (name) => (observe(name), values.get(name)),
    text: lookup,
    get(name) {
      observe?.(name);
      const hit = cache.get(name);
      if (hit !== undefined) return hit;
      const t = lookupText(name);
      const v = t === undefined ? '' : expandOrThrow(t, lookup);
      cache.set(name, v);
      return v;
    },
    getList: (name) => splitList(cfg.get(name)),
    getBool: (name) => parseBool(cfg.get(name), name),
    getTime: (name, unit = 's') => parseTime(cfg.get(name), unit, name),
    getInt: (name) => parseIntValue(cfg.get(name), name),
  };
  return cfg;
}

/** Reads `configDir/main.cf` and returns the configuration. */
export function loadPostfixConfig(opts: ConfigOptions): PostfixConfig {
  const file = `${opts.configDir}/main.cf`;
  let text: string;
  try {
    text = readFileSync(file, opts.encoding ?? 'utf8');
  } catch (err) {
    throw new ConfigOpenError(file, strerror(err));
  }
  return postfixConfigFromText(text, { ...opts, file });
}
