/**
 * Each bot's settings by category (`GET /api/v1/bots/{id}` and `…/config`), kept in memory
 * between changes: every write of settings, and every bot created or deleted, calls
 * {@link SettingsCache.changed}, which announces `redball.settings.changed` to every
 * instance (see {@link ChangeTrackedCache}).
 */
import type { EventBus } from '../../../src/index.js';
import type { SettingsByCategory } from './bot-config-store.js';
import { ChangeTrackedCache } from './change-tracked-cache.js';

/** The kept settings of one plugin instance, by bot id. */
export class SettingsCache extends ChangeTrackedCache<number, SettingsByCategory> {
  /** @param events - the kernel's event bus (changes arrive and leave through it) */
  constructor(events: EventBus) {
    super(events, 'redball.settings.changed');
  }
}
