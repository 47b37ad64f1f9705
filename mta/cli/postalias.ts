/*
 * postalias(1): build, query, list and edit aliases(5) databases (`name: value` syntax, plus the `@`,
 * YP_LAST_MODIFIED and YP_MASTER_NAME keys real postalias adds). Logic in table-tool.ts.
 */
import { runCli } from '../../shared/cli/diag.js';
import { runTableTool } from './table-tool.js';

await runCli(() => runTableTool('postalias', process.argv.slice(2)));
