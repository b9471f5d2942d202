/**
 * The public endpoints: configuration, status, chat history, directory details, emoji, the
 * known social platforms and the video variants.
 */
import { reply, Type, writeJson } from '../../../src/index.js';
import { SOCIAL_PLATFORMS } from '../constants.js';
import { ChatMessagesSchema, EmojiSchema, ErrorSchema, SocialPlatformsSchema, StatusSchema, VideoVariantsSchema, WebConfigSchema, YpSchema } from '../schemas.js';
import { variantsView } from '../variants.js';
import { ypView } from '../views.js';
import type { RouteKit } from './kit.js';

/** Owncast's answer to a method `/api/chat` does not implement. */
export const CHAT_NOT_IMPLEMENTED = { error: 'method not implemented (PRs are accepted)' };

/** Declares the public routes. */
export function publicRoutes(kit: RouteKit): void {
  const { owncast } = kit;
  const tags = ['Server'];

  kit.add({
    method: 'GET',
    path: '/api/config',
    summary: 'Information',
    description: 'The client configuration: what the web interface shows.',
    tags,
    responses: { 200: WebConfigSchema },
    handler: ({ res }) => {
      res.type('application/json').send(owncast.webConfigJson());
      return undefined;
    },
  });

  kit.add({
    method: 'GET',
    path: '/api/status',
    summary: 'Current Status',
    description: 'Whether the server is broadcasting, the number of viewers, and the stream title.',
    tags,
    responses: { 200: StatusSchema },
    handler: () => owncast.status(),
  });

  kit.add({
    method: 'GET',
    path: '/api/chat',
    summary: 'Historical Chat Messages',
    description: 'Visible messages of the recent window (5 hours, the last 50), oldest first.',
    tags: ['Chat'],
    responses: { 200: ChatMessagesSchema },
    handler: async ({ res }) => {
      writeJson(res, 200, (await owncast.chat.historyJson()).bytes);
      return undefined;
    },
  });
  kit.add({
    method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    path: '/api/chat',
    hidden: true,
    responses: { 501: ErrorSchema },
    handler: () => reply(501, CHAT_NOT_IMPLEMENTED),
  });

  kit.add({
    method: 'GET',
    path: '/api/yp',
    summary: 'Yellow Pages Information',
    description: 'What the Owncast directory reads; 404 unless the directory is enabled.',
    tags,
    responses: { 200: YpSchema, 404: { description: 'The directory is not enabled.' } },
    handler: () => {
      if (!owncast.settings.settings.directoryEnabled) return reply(404);
      return ypView(owncast.state.current, owncast.connections.count(), owncast.settings.settings);
    },
  });

  kit.add({
    method: 'GET',
    path: '/api/emoji',
    summary: 'Get Custom Emoji',
    tags: ['Chat'],
    responses: { 200: Type.Array(EmojiSchema) },
    handler: () => owncast.emoji.list(),
  });

  // The same for every request: built once.
  const platforms = JSON.stringify(Object.fromEntries(SOCIAL_PLATFORMS));
  kit.add({
    method: 'GET',
    path: '/api/socialplatforms',
    summary: 'Social platforms',
    description: 'Every social platform the web interface has an icon for, by the key a social handle names (`github`), sorted by key.',
    tags,
    responses: { 200: SocialPlatformsSchema },
    handler: ({ res }) => {
      res.type('application/json').send(platforms);
      return undefined;
    },
  });

  kit.add({
    method: 'GET',
    path: '/api/video/variants',
    summary: 'Video variants',
    description: "The output variants of the stream, for the player's quality menu: each one's name and index (its HLS stream), highest video bitrate first.",
    tags: ['Video'],
    responses: { 200: VideoVariantsSchema },
    handler: () => variantsView(owncast.settings.settings.streamOutputVariants),
  });
}
