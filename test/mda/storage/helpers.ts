/* Shared helpers for the storage tests: corpus access and a store in a temp dir. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openMailStore, type MailStore, type OpenStoreOptions } from '../../../mda/storage/api.js';
import { tempDir } from '../../helpers/tmp.js';

export const CORPUS = '/work/shared/corpus';

export interface CorpusEntry {
  file: string;
  eol: string;
  size: number;
  lfSize: number;
  crlfSize: number;
}

export function corpus(): CorpusEntry[] {
  return (JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { messages: CorpusEntry[] }).messages;
}

export function corpusBytes(e: CorpusEntry): Buffer {
  return readFileSync(join(CORPUS, e.file));
}

export async function tempStore(t: TestContext, extra: Partial<OpenStoreOptions> & { location?: string } = {}): Promise<{ store: MailStore; root: string; dir: string }> {
  const dir = tempDir(t, 'postern-storage-');
  const root = join(dir, 'Maildir');
  const store = await openMailStore({ mailLocation: extra.location ?? `maildir:${root}`, home: dir, user: 'alice', hostname: 'testhost', ...extra });
  t.after(() => store.close());
  return { store, root, dir };
}
