/*
 * docs/parameters.md is generated (shared/cli/gen-docs.ts) from the daemons' tables; this test
 * renders it from mta/params.ts and mda/settings.ts as they are now and fails when the committed
 * file differs, naming the command that regenerates it. Also checks the rendering is not vacuous
 * and that the command-line entry point prints the same text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as mta from '../../mta/params.js';
import * as mda from '../../mda/settings.js';
import { renderParametersMd, tablesFromModules } from '../../shared/cli/gen-docs.js';

const TOP = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = `${TOP}docs/parameters.md`;
const REGEN = 'npx tsc -p tsconfig.json && node dist/shared/cli/gen-docs.js dist/mta/params.js dist/mda/settings.js > docs/parameters.md';

const rendered = (): string => renderParametersMd(tablesFromModules(mta as unknown as Record<string, unknown>, mda as unknown as Record<string, unknown>));

test('docs/parameters.md is up to date with mta/params.ts and mda/settings.ts', () => {
  assert.equal(readFileSync(DOC, 'utf8'), rendered(), `docs/parameters.md is out of date; run: ${REGEN}`);
});

test('every MTA parameter and MDA setting has its row with its default', () => {
  const doc = rendered();
  for (const p of [...mta.MTA_PARAMS, ...mta.POSTERN_MTA_PARAMS]) assert.ok(doc.includes(`| \`${p.name}\` | ${p.type}`), p.name);
  const accepted = doc.slice(doc.indexOf('### Accepted but ignored'), doc.indexOf('### Postern-only MTA parameters'));
  for (const p of mta.MTA_ACCEPTED_PARAMS) assert.ok(accepted.includes(`| \`${p.name}\` |`), p.name);
  assert.match(accepted, /^\| `non_smtpd_milters` \| \(empty\) \| only smtpd_milters are supported: [^|]+ \|$/m);
  assert.doesNotMatch(accepted, /`smtpd_milters`/);
  assert.match(doc, /^\| `smtpd_milters` \| list \| \(empty\) \|$/m);
  assert.doesNotMatch(accepted, /`virtual_transport`/);
  for (const name of [...Object.keys(mda.MDA_SETTINGS), ...Object.keys(mda.POSTERN_SETTINGS)]) assert.ok(doc.includes(`| \`${name}\` |`), name);
  const mdaAccepted = doc.slice(doc.indexOf('### Accepted but ignored settings'), doc.indexOf('### Postern-only MDA settings'));
  for (const name of Object.keys(mda.MDA_ACCEPTED_SETTINGS)) assert.ok(mdaAccepted.includes(`| \`${name}\` |`), name);
  assert.match(mdaAccepted, /^\| `mailbox_list_index` \| `yes` \| Postern has no index files \|$/m);
  assert.doesNotMatch(mdaAccepted, /`mail_location`/);
  assert.match(doc, /^\| `virtual_transport` \| string \| `virtual` \|$/m);
  assert.match(doc, /^\| `mail_location` \| str \| \(empty\) \|$/m);
  assert.match(doc, /^\| `postern_lmtp_max_message_size` \| size \| `100 M` \|$/m);
});

test('gen-docs on the command line prints the same document', () => {
  const r = spawnSync(process.execPath, [`${TOP}dist/shared/cli/gen-docs.js`, `${TOP}dist/mta/params.js`, `${TOP}dist/mda/settings.js`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, rendered());
  const bad = spawnSync(process.execPath, [`${TOP}dist/shared/cli/gen-docs.js`], { encoding: 'utf8' });
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /^usage: gen-docs /);
});
