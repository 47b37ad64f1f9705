/*
 * doveconf(1) for Postern: prints the dovecot.conf (2.3) configuration as Dovecot 2.3.19.1's doveconf does.
 *
 * Flags: -a (all, default), -n (changed), -N (set), -d (defaults, no file read), -h (value only), -P (show secrets),
 * -S (key=value paths), -x (expand $vars and <file), -c FILE, -f protocol=|service=|local=|remote=|lname=,
 * -m MODULE and -p (accepted, no effect: Postern has one settings table); arguments are setting paths or section
 * names. Fatal errors print `doveconf: Fatal: …` and exit 89 as Dovecot's FATAL_DEFAULT does.
 *
 * Header lines: `# 2.3.19.1 (Postern): PATH` keeps the config-language version scripts look for but names our build
 * instead of Dovecot's git id; no Pigeonhole banner (no Pigeonhole here); `# OS:` and `# Hostname:` state the host
 * the same way Dovecot does (uname, /etc/debian_version, hostname).
 * Reads argv and the files named; nothing else.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostname, machine, release, type } from 'node:os';
import { CliExit, dovecotDiag, runCli } from '../../shared/cli/diag.js';
import { ConfigSyntaxError } from '../../shared/errors/config-error.js';
import { blocksInDumpOrder, dumpHuman, filterHead, filterTail } from '../../shared/config/dovecot/dump.js';
import { exportView, type ExportScope } from '../../shared/config/dovecot/export.js';
import { fsConfigSource } from '../../shared/config/dovecot/fs-source.js';
import { parseNet, type FilterSpec, type ParsedDovecotConfig, newBlock } from '../../shared/config/dovecot/model.js';
import { DelayedConfigError, parseDovecotConfig } from '../../shared/config/dovecot/parser.js';
import { filterMatches, mergedView, type FilterQuery } from '../../shared/config/dovecot/view.js';
import { getopt, GetoptError } from '../../shared/cli/getopt.js';

export const DOVECONF_VERSION_LINE = '2.3.19.1 (Postern)';
const DEFAULT_CONFIG = '/etc/dovecot/dovecot.conf';
const FATAL = 89;

export interface DoveconfIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

interface Options {
  scope: ExportScope;
  defaults: boolean;
  hideKey: boolean;
  hidePasswords: boolean;
  simple: boolean;
  expand: boolean;
  configPath: string;
  filter: FilterQuery;
  names: string[];
}

function parseArgs(argv: readonly string[], fatal: (m: string) => never, io: DoveconfIo): Options {
  const o: Options = {
    scope: 'all', defaults: false, hideKey: false, hidePasswords: true, simple: false, expand: false,
    configPath: DEFAULT_CONFIG, filter: {}, names: [],
  };
  let filter: { -readonly [K in keyof FilterQuery]: FilterQuery[K] } = {};
  let parsed;
  try {
    parsed = getopt('doveconf', argv, 'adhnNPSxpHec:f:m:o:i:');
  } catch (e) {
    if (!(e instanceof GetoptError)) throw e;
    io.stderr(`${e.message}\n`);
    throw new CliExit(FATAL);
  }
  for (const { opt: c, arg } of parsed.opts) {
    switch (c) {
      case 'a': break;
      case 'd': o.defaults = true; break;
      case 'h': o.hideKey = true; break;
      case 'n': o.scope = 'changed'; break;
      case 'N': o.scope = 'set'; break;
      case 'P': o.hidePasswords = false; break;
      case 'S': o.simple = true; break;
      case 'x': o.expand = true; break;
      case 'p': case 'H': break;
      case 'm': case 'o': case 'i': break;
      case 'e': fatal('-e is not supported by Postern');
      case 'c': o.configPath = arg ?? ''; break;
      case 'f': filter = { ...filter, ...filterArg(arg ?? '', fatal) }; break;
    }
  }
  o.filter = filter;
  o.names = parsed.rest;
  return o;
}

function filterArg(arg: string, fatal: (m: string) => never): FilterQuery {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  const value = eq < 0 ? '' : arg.slice(eq + 1);
  switch (key) {
    case 'service':
    case 'protocol':
      return { protocol: value };
    case 'lname':
      return { localName: value };
    case 'local':
    case 'remote': {
      const net = parseNet(value);
      if (typeof net === 'string') fatal(`${key} filter: ${net}`);
      return key === 'local' ? { local: net } : { remote: net };
    }
    default:
      fatal(`Unknown filter argument: ${arg}`);
  }
}

/** Type of the file system holding `path` (first /proc/mounts entry on the same device), or ''. */
function fsType(path: string): string {
  try {
    const dev = statSync(path).dev;
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, dir, fstype] = line.split(' ');
      if (dir === undefined || fstype === undefined || fstype === 'rootfs') continue;
      try {
        if (statSync(dir.replace(/\\040/g, ' ')).dev === dev) return fstype;
      } catch {
        continue;
      }
    }
  } catch {
    return '';
  }
  return '';
}

/**
 * Dovecot's sysinfo line: `OS: <sysname> <release> <machine> <distro> <fs>`, the last being the file system
 * type of mail_location's path when that path exists.
 */
export function sysinfoLine(mailLocation = ''): string {
  let distro = '';
  try {
    if (existsSync('/etc/debian_version')) distro = `Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}`;
    else {
      const osr = readFileSync('/etc/os-release', 'utf8');
      const name = /^NAME="?([^"\n]*)"?$/m.exec(osr)?.[1] ?? '';
      const ver = /^VERSION_ID="?([^"\n]*)"?$/m.exec(osr)?.[1] ?? '';
      distro = `${name} ${ver}`.trim();
    }
  } catch {
    distro = '';
  }
  // only `driver:path[:options]` names a path (observed: a bare `/path` adds nothing)
  const colon = mailLocation.indexOf(':');
  // …and only up to the first `%` variable (maildir:/var/vmail/%d/%n reports /var/vmail's file system)
  const path = colon < 0 ? '' : (mailLocation.slice(colon + 1).split(':')[0] ?? '').split('%')[0]!;
  return `OS: ${type()} ${release()} ${machine()} ${distro} ${path === '' ? '' : fsType(path)}`;
}

/** doveconf's config_filter_find_subset(): blocks relevant to a `-f` query, in dump order, global dropped. */
function subsetBlocks(cfg: ParsedDovecotConfig, q: FilterQuery) {
  const picked = cfg.blocks.filter((b) => {
    if (q.protocol !== undefined && !filterMatches({ ...(b.filter.protocol !== undefined ? { protocol: b.filter.protocol } : {}) }, q)) return false;
    const mask: FilterSpec = {
      ...(q.localName !== undefined && b.filter.localName !== undefined ? { localName: b.filter.localName } : {}),
      ...(q.local !== undefined && b.filter.local !== undefined ? { local: b.filter.local } : {}),
      ...(q.remote !== undefined && b.filter.remote !== undefined ? { remote: b.filter.remote } : {}),
    };
    return filterMatches(mask, { ...q, protocol: undefined });
  });
  return blocksInDumpOrder(picked).slice(1);
}

/** Runs doveconf with `argv` (without the program name); returns the exit status. */
export function doveconf(argv: readonly string[], io: DoveconfIo): number {
  const diag = dovecotDiag('doveconf', io.stderr);
  const fatal = (m: string): never => diag.fatal(m, FATAL);
  const o = parseArgs(argv, fatal, io);

  if (o.names.length === 0 && !o.simple) io.stdout(`# ${DOVECONF_VERSION_LINE}: ${o.configPath}\n`);

  let cfg: ParsedDovecotConfig;
  let delayed: DelayedConfigError | undefined;
  if (o.defaults) {
    cfg = { path: o.configPath, blocks: [newBlock({}, o.configPath, 0)] };
  } else {
    const warnings: string[] = [];
    try {
      cfg = parseDovecotConfig(o.configPath, fsConfigSource, {
        expandValues: o.expand, env: io.env, warn: (m) => warnings.push(m),
        onDelayedError: (err) => { delayed = err; },
      });
    } catch (err) {
      for (const w of warnings) diag.warn(w);
      if (err instanceof ConfigSyntaxError) fatal(err.message);
      throw err;
    }
    for (const w of warnings) diag.warn(w);
  }
  // Dovecot prints what it parsed before an unclosed section, then fails
  const finish = (): number => (delayed !== undefined ? fatal(delayed.message) : 0);

  const view = mergedView(cfg, o.filter);
  const keys = exportView(view, o.scope);

  if (o.simple) {
    for (const k of exportView(view, o.scope, false)) {
      if (o.names.length > 0 && !o.names.some((n) => k.key.startsWith(n) && (k.key.length === n.length || k.key[n.length] === '/'))) continue;
      io.stdout(`${k.key}=${k.value}\n`);
    }
    return finish();
  }

  if (o.names.length > 0) {
    for (const name of o.names) {
      let section = false;
      let done = false;
      for (const k of keys) {
        if (k.kind === 'list' || !k.key.startsWith(name)) continue;
        if (k.key.length === name.length) {
          io.stdout(o.hideKey ? `${k.value}\n` : `${name} = ${k.value}\n`);
          done = true;
          break;
        }
        if (k.key[name.length] === '/') section = true;
      }
      if (!done && section) io.stdout(dumpHuman(keys, { hidePasswords: o.hidePasswords, nameFilter: name }).text);
    }
    return finish();
  }

  io.stdout(`# ${sysinfoLine(view.get('mail_location'))}\n# Hostname: ${hostname()}\n`);
  if (o.scope === 'all') io.stdout('# NOTE: Send doveconf -n output instead when asking for help.\n');
  let text = dumpHuman(keys, { hidePasswords: o.hidePasswords }).text;
  for (const b of subsetBlocks(cfg, o.filter)) {
    const head = filterHead(b.filter);
    const d = dumpHuman(exportView(mergedView({ path: cfg.path, blocks: [b] }, b.filter), 'set'),
      { hidePasswords: o.hidePasswords, indent: head.depth, lead: head.text });
    text += d.text;
    if (d.printed) text += filterTail(head.depth);
  }
  io.stdout(text);
  return finish();
}

const isMain = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  void runCli(() => doveconf(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
  }));
}
