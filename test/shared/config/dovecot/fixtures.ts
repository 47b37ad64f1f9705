/*
 * Test configurations shared by the dovecot.conf parser tests and the doveconf interop tests:
 * a Postfix-facing virtual-user setup (reference §12.4) and a tree exercising includes, quoting, `<file`,
 * `$var`, comments, continuation lines and every filter kind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Virtual users behind Postfix: passwd-file, LMTP and auth sockets in Postfix's private/, special-use folders. */
export const VIRTUAL_CONF = `# Postfix-facing virtual users (Postern interop fixture)
protocols = imap pop3 lmtp
listen = *, ::
mail_location = maildir:/var/vmail/%d/%n
mail_uid = vmail
mail_gid = vmail
first_valid_uid = 5000
auth_mechanisms = plain login
disable_plaintext_auth = yes
auth_username_format = %Lu
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u /etc/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u /etc/dovecot/users
  default_fields = uid=vmail gid=vmail home=/var/vmail/%d/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = create
    autoexpunge = 30d
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox "Sent Messages" {
    special_use = \\Sent
  }
}
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
  unix_listener auth-userdb {
    mode = 0600
    user = vmail
  }
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
ssl = required
ssl_cert = </etc/ssl/certs/mail.pem
ssl_key = </etc/ssl/private/mail.key
ssl_min_protocol = TLSv1.2
login_greeting = Postern ready.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
protocol lmtp {
  mail_plugins = $mail_plugins quota
  postmaster_address = postmaster@example.org
}
protocol imap {
  mail_plugins = $mail_plugins quota imap_quota
  mail_max_userip_connections = 20
  imap_idle_notify_interval = 29 mins
}
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=1G
  quota_grace = 10%%
}
`;

/** dovecot.conf + conf.d/*.conf + local.conf + files read with `<`. */
export const INCLUDE_TREE: Readonly<Record<string, string>> = {
  'dovecot.conf': `# includes, quoting, <file, $var, filters
!include conf.d/*.conf
!include_try local.conf
!include_try missing/*.conf
mail_plugins = quota
mail_plugins = $mail_plugins zlib
login_greeting = "Hello \\"world\\" # not a comment"
login_trusted_networks = 10.0.0.0/8 \\
    192.168.0.0/16 # trailing comment
auth_realms = 'example.com example.org'
mail_home = /home/$mail_uid/%u
hostname = mx.example.org#glued
ssl_cert = <secrets/cert.pem
ssl_key = < secrets/key.pem
imap_capability = "+XFOO"
postmaster_address = "  spaced  "
protocol imap {
  mail_plugins = $mail_plugins imap_zlib
}
local 192.168.1.1 {
  login_greeting = Internal.
  protocol pop3 {
    pop3_uidl_format = %v.%u
  }
}
remote 2001:db8::/32 {
  mail_max_userip_connections = 50
}
local_name imap.example.org {
  ssl_cert = <secrets/cert.pem
}
`,
  'conf.d/10-a.conf': `mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  mailbox "Deleted Items" {
    special_use = \\Trash
  }
}
`,
  'conf.d/20-b.conf': `passdb {
  driver = passwd-file
  args = /etc/dovecot/users
}
passdb {
  driver = static
  args = nopassword=y password=secret
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=/var/vmail/%u
}
`,
  'local.conf': `auth_debug = yes
mail_debug = YES
`,
  'secrets/cert.pem': 'CERT\n',
  'secrets/key.pem': 'secret-key-data\n',
};

/** Writes a file tree under `dir`; returns `dir`. */
export function writeTree(dir: string, files: Readonly<Record<string, string>>): string {
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}
