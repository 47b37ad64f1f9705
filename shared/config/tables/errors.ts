/*
 * Errors raised by lookup tables. The message is exactly what Postfix prints after `postmap: fatal: `
 * (or what a daemon would log), so the CLI and the log need no re-wording.
 *
 *   TableOpenError   — the table cannot be opened (unsupported type, missing file, bad syntax of
 *                      inline:/static:, unreadable index). Postfix treats this as fatal for a tool and
 *                      as a "table unavailable" temporary condition for a daemon.
 *   TableLookupError — one lookup failed (Postfix DICT_ERR_RETRY / DICT_ERR_CONFIG); always temporary.
 */

export class TableOpenError extends Error {
  override readonly name = 'TableOpenError';
  constructor(message: string) {
    super(message);
  }
}

export class TableLookupError extends Error {
  override readonly name = 'TableLookupError';
  constructor(
    readonly spec: string,
    detail: string,
  ) {
    super(`table ${spec}: query error: ${detail}`);
  }
}
