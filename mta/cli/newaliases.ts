/*
 * newaliases(1) = `sendmail -bi`: rebuilds every table listed in $alias_database with postalias.
 * Accepts -C/-c DIR (config directory) and ignores the Sendmail options scripts pass (-v, -oX…).
 */
import { runCli } from '../../shared/cli/diag.js';
import { runNewaliases } from './table-newaliases.js';

await runCli(() => runNewaliases(process.argv.slice(2)));
