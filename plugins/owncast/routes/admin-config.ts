/**
 * The configuration setters, `POST /api/admin/config/<setting>` with `{"value": …}` (the
 * external actions take the array itself). Each checks its value — any wrong type or
 * out-of-range value answers `400 {"success": false, "message": …}` naming the problem and
 * changes nothing — stores it, and the change shows at once in `/api/config` and
 * `/api/admin/serverconfig`.
 */
import { Type } from '../../../src/index.js';
import { BasicResponseSchema } from '../schemas.js';
import { EXTERNAL_ACTIONS_SETTER, SETTERS, type SetterDefinition } from '../settings.js';
import { ok } from '../wire.js';
import type { RouteKit } from './kit.js';

/** Declares every setter. */
export function adminConfigRoutes(kit: RouteKit): void {
  const { owncast } = kit;
  const responses = { 200: BasicResponseSchema, 400: BasicResponseSchema };
  const declare = (setter: SetterDefinition) =>
    kit.post(
      {
        path: `/api/admin/config/${setter.path}`,
        summary: setter.summary,
        ...(setter.description ? { description: setter.description } : {}),
        tags: ['Admin'],
        auth: kit.admin,
        body: setter.body,
        responses,
        handler: async ({ body }) => {
          await owncast.settings.update(setter.apply(body));
          return ok(setter.message);
        },
      },
      { basic: true },
    );
  for (const setter of SETTERS) declare(setter);
  declare(EXTERNAL_ACTIONS_SETTER);

  kit.post(
    {
      path: '/api/admin/config/streamtitle',
      summary: 'Set the stream title.',
      description: 'Also announces "Stream title changed to **<title>**" in chat and fires STREAM_TITLE_UPDATED webhooks.',
      tags: ['Admin'],
      auth: kit.admin,
      body: Type.Object({ value: Type.String() }),
      responses,
      handler: async ({ body }) => {
        await owncast.setStreamTitle((body as { value: string }).value);
        return ok('changed');
      },
    },
    { basic: true },
  );
}
