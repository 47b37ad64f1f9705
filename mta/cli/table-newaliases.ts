/*
 * newaliases: postalias on each table of $alias_database (split like any Postfix list), stopping at
 * the first fatal error as sendmail -bi does. Separate from newaliases.ts so tests can call it.
 */
import { postfixDiag } from '../../shared/cli/diag.js';
import { splitList } from '../../shared/config/postfix/config.js';
import { loadToolConfig, processIo, runTableTool, type ToolIo } from './table-tool.js';

export function runNewaliases(argv: readonly string[], io: ToolIo = processIo): number {
  const diag = postfixDiag('newaliases', io.stderr);
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-C' || a === '-c') dir = argv[++i];
    else if (a.startsWith('-C') || a.startsWith('-c')) dir = a.slice(2);
  }
  const config = loadToolConfig(dir, io.env, diag);
  const args = dir !== undefined ? ['-c', dir] : [];
  let status = 0;
  for (const db of splitList(config.get('alias_database'))) {
    status = runTableTool('postalias', [...args, db], io) || status;
  }
  return status;
}
