/*
 * postern-make-cert: writes a self-signed key and certificate for the demo (or a test instance).
 *   postern-make-cert [-n NAME] [-a ALTNAME]... [-d DAYS] KEYFILE CERTFILE
 * The key is written with mode 0600 through a temporary file and rename; existing files are kept
 * unless -f is given, so `make run` never replaces an administrator's certificate.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { makeSelfSigned } from '../tls/selfsigned.js';
import { writeFileAtomicSync } from '../fs/atomic.js';
import { runCli } from './diag.js';

await runCli(() => {
  const program = new Command('postern-make-cert')
    .option('-n, --name <name>', 'certificate common name', 'localhost')
    .option('-a, --alt <name>', 'subjectAltName entry (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-d, --days <days>', 'validity in days', '365')
    .option('-f, --force', 'replace existing files')
    .argument('<keyfile>')
    .argument('<certfile>')
    .exitOverride();
  program.parse(process.argv);
  const opts = program.opts<{ name: string; alt: string[]; days: string; force?: boolean }>();
  const [keyFile, certFile] = program.args as [string, string];
  if (!opts.force && existsSync(keyFile) && existsSync(certFile)) {
    process.stdout.write(`postern-make-cert: keeping existing ${certFile}\n`);
    return 0;
  }
  const { keyPem, certPem } = makeSelfSigned({ commonName: opts.name, altNames: opts.alt, days: Number(opts.days) });
  writeFileAtomicSync(keyFile, keyPem, 0o600);
  writeFileAtomicSync(certFile, certPem, 0o644);
  process.stdout.write(`postern-make-cert: wrote ${keyFile} and ${certFile} for ${opts.name}\n`);
  return 0;
});
