/*
 * postmap(1): build, query, list and edit Postfix lookup tables. All behaviour lives in
 * table-tool.ts (shared with postalias); this file is only the entry point.
 */
import { runCli } from '../../shared/cli/diag.js';
import { runTableTool } from './table-tool.js';

await runCli(() => runTableTool('postmap', process.argv.slice(2)));
