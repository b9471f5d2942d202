/** The talk plugin's configuration schema (every key has a default). */
import { Type, type Static } from '../../src/index.js';

/** The configuration of the talk plugin. */
export const TalkConfigSchema = Type.Object({
  /** This server's base URL as bots reach it (`X-Nextcloud-Talk-Backend`). */
  backendUrl: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        'This server\'s base URL as bots reach it, sent as `X-Nextcloud-Talk-Backend` (a trailing slash is added); bots post their replies to `<backendUrl>ocs/v2.php/apps/spreed/api/v1/bot/<token>/message`. Like Nextcloud\'s `overwrite.cli.url`. Default: derived from the request that caused the delivery (scheme, host, mount path), else `http://localhost/`.',
    }),
  ),
  /** Webhooks to bots. */
  delivery: Type.Object(
    {
      /** Per-attempt timeout, ms. */
      timeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'Per-attempt timeout of a webhook to a bot (the original: 5 s).' }),
      /** Attempts before a webhook is dead. */
      maxAttempts: Type.Integer({ minimum: 1, default: 5, description: 'Attempts per webhook before it is dead (the original tries once).' }),
    },
    { default: {} },
  ),
  /** Throttling of bad bot signatures. */
  throttle: Type.Object(
    {
      /** Failures per client and conversation before 429. */
      maxFailures: Type.Integer({ minimum: 1, default: 10, description: 'Bad bot signatures per client and conversation before requests get 429.' }),
      /** The counting window, seconds. */
      windowSeconds: Type.Integer({ minimum: 1, default: 600, description: 'How long failures are counted (a fixed window).' }),
    },
    { default: {} },
  ),
  /** Replay protection of signed bot requests. */
  replay: Type.Object(
    {
      /** How long the random of an accepted bot request is remembered, seconds. */
      windowSeconds: Type.Integer({ minimum: 60, default: 86_400, description: 'How long the X-Nextcloud-Talk-Random of an accepted bot request is remembered: the same random within it is a replay and gets 401 (the original accepts replays).' }),
    },
    { default: {} },
  ),
  /** The per-process cache of bot listings. */
  cache: Type.Object(
    {
      /** How long a listing is cached, ms (0: off). */
      ttlMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000, description: 'How long `GET bot/{token}` answers are cached per process (0: off). Changes made through this process clear the cache at once.' }),
    },
    { default: {} },
  ),
  /** Chat polling. */
  chat: Type.Object(
    {
      /** Longest wait of `lookIntoFuture=1`, seconds. */
      maxPollSeconds: Type.Integer({ minimum: 0, maximum: 60, default: 30, description: 'Longest wait of `lookIntoFuture=1` (the original: 30 s).' }),
    },
    { default: {} },
  ),
});

/** The validated configuration of the talk plugin. */
export type TalkConfig = Static<typeof TalkConfigSchema>;
