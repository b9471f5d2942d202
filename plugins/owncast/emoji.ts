/**
 * Custom chat emoji: the image files of the configured `emoji.directory`, listed as
 * `{name, emoji}` with `name` the file name without its extension and `emoji` its URL
 * under `emoji.urlPrefix`. The listing is cached for ten seconds, and read once however many
 * requests want it at the same moment (RefreshingCache).
 */
import fs from 'node:fs';
import path from 'node:path';
import { RefreshingCache } from './refreshing-cache.js';

/** One custom emoji. */
export interface Emoji {
  /** Its name (the file name without extension). */
  name: string;
  /** The URL path of its image. */
  emoji: string;
}

const IMAGE = /\.(gif|png|jpe?g|webp|svg|avif)$/i;
const CACHE_MS = 10_000;

/** Lists the emoji of a directory. */
export class EmojiDirectory {
  private readonly cache = new RefreshingCache(
    () => this.read(),
    () => CACHE_MS,
    () => undefined, // read() never fails: an unreadable directory lists none
  );

  /**
   * @param directory - where the images are (none: no custom emoji)
   * @param urlPrefix - the URL path they are served under
   */
  constructor(
    private readonly directory: string | undefined,
    private readonly urlPrefix: string,
  ) {}

  /** The emoji, sorted by name. A missing directory lists none. */
  async list(): Promise<Emoji[]> {
    if (!this.directory) return [];
    return this.cache.get();
  }

  private async read(): Promise<Emoji[]> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(this.directory!, { withFileTypes: true });
    } catch {
      entries = [];
    }
    const prefix = this.urlPrefix.replace(/\/+$/, '');
    return entries
      .filter((e) => e.isFile() && IMAGE.test(e.name))
      .map((e) => ({ name: path.parse(e.name).name, emoji: `${prefix}/${encodeURIComponent(e.name)}` }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
