/*
 * The lmtp(8) parameters the LMTP agent honours, read from a service's configuration (main.cf plus
 * its master.cf -o overrides). Names and defaults are Postfix 3.7's and live in mta/params.ts;
 * lmtp_connect_timeout = 0s means the operating system's own connect timeout, as in Postfix.
 */
import type { PostfixConfig } from '../../../shared/config/postfix/config.js';
import type { LmtpAgentOptions } from './agent.js';

export function lmtpAgentOptions(transport: string, cfg: PostfixConfig): LmtpAgentOptions {
  const ms = (name: string) => cfg.getTime(name, 's') * 1000;
  const port = cfg.get('lmtp_tcp_port');
  return {
    transport,
    queueDirectory: cfg.get('queue_directory'),
    myhostname: cfg.get('myhostname'),
    lhloName: cfg.get('lmtp_lhlo_name'),
    defaultPort: /^\d+$/.test(port) ? Number(port) : 24,
    timeouts: {
      connect: ms('lmtp_connect_timeout'),
      lhlo: ms('lmtp_lhlo_timeout'),
      mail: ms('lmtp_mail_timeout'),
      rcpt: ms('lmtp_rcpt_timeout'),
      dataInit: ms('lmtp_data_init_timeout'),
      dataXfer: ms('lmtp_data_xfer_timeout'),
      dataDone: ms('lmtp_data_done_timeout'),
      rset: ms('lmtp_rset_timeout'),
      quit: ms('lmtp_quit_timeout'),
    },
    cacheTimeLimit: cfg.getBool('lmtp_connection_cache_on_demand') ? ms('lmtp_connection_cache_time_limit') : 0,
    reuseTimeLimit: ms('lmtp_connection_reuse_time_limit'),
    reuseCountLimit: cfg.getInt('lmtp_connection_reuse_count_limit'),
  };
}
