/**
 * New Owncast access tokens: 32 random bytes, URL-safe base64 with padding, and never a
 * first `-`, which a command line would read as an option (`switchboard owncast token delete
 * <token>` refused one token in 64 as an unknown option; see docs/compat/owncast.md).
 */
import 'reflect-metadata'; // the plugin's modules use tsyringe's decorators, as its entry point does
import t from 'tap';
import { newAccessToken } from '../../../plugins/owncast/access-tokens.js';

t.test('tokens have the format and never begin with -', async (t) => {
  const tokens = Array.from({ length: 5000 }, () => newAccessToken());
  t.ok(tokens.every((token) => /^[A-Za-z0-9_-]{43}=$/.test(token)), '32 random bytes, URL-safe base64 with padding');
  t.equal(tokens.filter((token) => token.startsWith('-')).length, 0, 'none of 5,000 begins with - (about 78 would, drawn once each)');
  t.equal(new Set(tokens).size, tokens.length, 'all different');
  const firsts = new Set(tokens.map((token) => token[0]));
  t.equal(firsts.size, 63, 'every other first character occurs');
  t.ok(tokens.some((token) => token.slice(1).includes('-')), 'a - further on is still drawn');
});
