/*
 * Builds a PostfixConfig from main.cf lines for resolver and policy tests, with a fixed host
 * (mx.example.test, 192.0.2.1) so no test depends on the machine it runs on.
 */
import { postfixConfigFromText, type PostfixConfig } from '../../../shared/config/postfix/config.js';
import { createResolveContext } from '../../../mta/resolve/context.js';
import { createResolver, type PostfixResolver } from '../../../mta/resolve/resolver.js';

export function testConfig(main: Record<string, string>): PostfixConfig {
  const text = Object.entries(main).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
  return postfixConfigFromText(text, {
    configDir: '/nonexistent-postern-test',
    host: { myhostname: 'mx.example.test', mydomain: 'example.test', mynetworks: () => '127.0.0.0/8 192.0.2.0/24', pid: 1 },
  });
}

export function testResolver(main: Record<string, string>): PostfixResolver {
  const cfg = testConfig({ compatibility_level: '3.6', alias_maps: '', local_recipient_maps: '', ...main });
  return createResolver(createResolveContext(cfg, { interfaces: () => [{ family: 'IPv4', address: '192.0.2.1', prefix: 24 }, { family: 'IPv6', address: '::1', prefix: 128 }] }));
}
