/**
 * A real Talk bot, as a node:http server: it verifies every webhook exactly as Talk bot
 * libraries do (nc_py_api's `verify_signature`: HMAC-SHA256 over the random header's
 * bytes followed by the raw body bytes, compared in constant time with the lower-cased
 * signature header; 401 when it does not match) and answers chat messages with a signed
 * reply to `<X-Nextcloud-Talk-Backend>ocs/v2.php/apps/spreed/api/v1/bot/<token>/message`
 * (random + message signed with the shared secret, `OCS-APIRequest: true`).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook the bot received. */
export interface Hook {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  activity: any;
  verified: boolean;
  status: number;
}

/** What the bot did when it replied. */
export interface SentReply {
  status: number;
  message: string;
  token: string;
  body: any;
}

/** A running bot. */
export interface TalkBot {
  url: string;
  hooks: Hook[];
  replies: SentReply[];
  /** Sets the status the bot answers webhooks with (default 200). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** Verifies a Talk webhook as the bot libraries do. */
export function verifyTalkSignature(secret: string, random: string | undefined, body: Buffer, signature: string | undefined): boolean {
  if (!random || !signature) return false;
  const digest = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(random, 'utf8')).update(body).digest('hex');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  const expected = Buffer.from(digest, 'utf8');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** Signs a bot request as the libraries do: random (32 hex bytes) and HMAC over random + text. */
export function signAsBot(secret: string, text: string, random = crypto.randomBytes(32).toString('hex')): { random: string; signature: string } {
  return { random, signature: crypto.createHmac('sha256', secret).update(random + text).digest('hex') };
}

/**
 * Starts a bot. `reply` decides the answer to a `Create` (undefined: no answer); the
 * default echoes `echo: <message>` as a reply to the message.
 */
export async function startTalkBot(secret: string, reply: (activity: any) => string | undefined = (a) => `echo: ${JSON.parse(a.object.content).message}`): Promise<TalkBot> {
  const hooks: Hook[] = [];
  const replies: SentReply[] = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const verified = verifyTalkSignature(secret, req.headers['x-nextcloud-talk-random'] as string, raw, req.headers['x-nextcloud-talk-signature'] as string);
      let activity: any;
      try {
        activity = JSON.parse(raw.toString('utf8'));
      } catch {
        activity = undefined;
      }
      const answer = verified ? status : 401;
      hooks.push({ headers: req.headers, raw, activity, verified, status: answer });
      res.writeHead(answer, { 'Content-Type': 'application/json' }).end('{}');
      if (!verified || answer !== 200 || activity?.type !== 'Create') return;
      const text = reply(activity);
      if (text === undefined) return;
      const backend = String(req.headers['x-nextcloud-talk-backend']);
      const token = activity.target.id;
      const { random, signature } = signAsBot(secret, text);
      const body = { message: text, replyTo: Number(activity.object.id), referenceId: crypto.createHash('sha256').update(random).digest('hex'), silent: false };
      void fetch(`${backend}ocs/v2.php/apps/spreed/api/v1/bot/${token}/message`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'OCS-APIRequest': 'true', 'X-Nextcloud-Talk-Bot-Random': random, 'X-Nextcloud-Talk-Bot-Signature': signature },
        body: JSON.stringify(body),
      }).then(
        async (r) => void replies.push({ status: r.status, message: text, token, body: await r.json().catch(() => undefined) }),
        () => void replies.push({ status: 0, message: text, token, body: undefined }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/talk-bot`,
    hooks,
    replies,
    answer: (s) => void (status = s),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
