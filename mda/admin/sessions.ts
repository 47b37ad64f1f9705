/*
 * The live-session registry of the MDA daemon: what Dovecot 2.3 keeps in anvil for `doveadm who`
 * and `doveadm kick`. IMAP and POP3 register a session once the user is logged in and its mail is
 * open (Dovecot: the mail process connects to anvil after login) and unregister it when the
 * connection ends. LMTP deliveries are not listed: Dovecot 2.3's lmtp does not connect to anvil
 * either (checked against the real `doveadm who` while an LMTP DATA was in progress).
 *
 * kick() asks every matching session to end itself as Dovecot's processes do on SIGTERM (the real
 * doveadm kick signals the session's process): IMAP `* BYE Server shutting down.`, POP3
 * `-ERR [SYS/TEMP] Server shutting down.`; the protocol code owns those texts.
 * Distrusts: masks and nets from the admin socket (wildcards only; nets parsed by node:net).
 */
import { BlockList, isIP } from 'node:net';

export interface LiveSession {
  readonly user: string;
  /** Dovecot's service name: imap, pop3. */
  readonly service: string;
  readonly pid: number;
  /** Remote IP, '' when none. */
  readonly ip: string;
  readonly session: string;
  /** Ends the session the way the protocol ends it on shutdown. */
  kick(): void;
}

/** What the protocol servers need: register returns the unregister function. */
export interface SessionSink {
  register(s: LiveSession): () => void;
}

/** Case-insensitive `*` / `?` mask (Dovecot's wildcard_match_icase). */
export function maskMatch(text: string, mask: string): boolean {
  const re = mask.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`, 'is').test(text);
}

/** `ip[/bits]` as a matcher; undefined when it is not an address. */
export function netMatcher(net: string): ((ip: string) => boolean) | undefined {
  const [addr = '', bitsText] = net.split('/', 2);
  const fam = isIP(addr);
  if (fam === 0) return undefined;
  const max = fam === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  const list = new BlockList();
  list.addSubnet(addr, bits, fam === 4 ? 'ipv4' : 'ipv6');
  return (ip) => {
    const f = isIP(ip);
    return f !== 0 && list.check(ip, f === 4 ? 'ipv4' : 'ipv6');
  };
}

export class SessionRegistry implements SessionSink {
  private readonly live = new Set<LiveSession>();

  register(s: LiveSession): () => void {
    this.live.add(s);
    return () => {
      this.live.delete(s);
    };
  }

  /** Sessions whose user matches `mask` (all without one); a mask that is an IP/net matches the address. */
  list(mask?: string, net?: string): LiveSession[] {
    const byNet = net !== undefined ? netMatcher(net) : undefined;
    const maskNet = mask !== undefined ? netMatcher(mask) : undefined;
    return [...this.live].filter((s) => {
      if (mask !== undefined && (maskNet !== undefined ? !maskNet(s.ip) : !maskMatch(s.user, mask))) return false;
      if (net !== undefined && (byNet === undefined || !byNet(s.ip))) return false;
      return true;
    });
  }

  /** Kicks the matching sessions and returns them. */
  kick(mask: string, net?: string): LiveSession[] {
    const hit = this.list(mask, net);
    for (const s of hit) {
      this.live.delete(s);
      try {
        s.kick();
      } catch {
        // the connection is already going away
      }
    }
    return hit;
  }
}
