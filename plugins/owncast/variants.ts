/**
 * The names of the video output variants, as Owncast 0.0.7 gives them
 * (`StreamOutputVariant.GetName`), and the list the player's quality menu reads
 * (`/api/video/variants`).
 */
import type { StreamQuality } from './settings.js';

/** One entry of `/api/video/variants`. */
export interface VariantEntry {
  /** The variant's display name. */
  name: string;
  /** Its position in the configured list (the HLS stream index). */
  index: number;
}

/** `1200` → `1.2Mbps`, `3000` → `3Mbps`, `800` → `800Kbps`, `0` → `` (kbps in). */
function bitrateString(kbps: number): string {
  if (kbps <= 0) return '';
  if (kbps < 1000) return `${kbps}Kbps`;
  if (kbps % 1000 === 0) return `${kbps / 1000}Mbps`;
  return `${(kbps / 1000).toFixed(1)}Mbps`;
}

/**
 * A variant's display name: its own name; else `Source` for a passthrough; else from its
 * size (`1080p @6Mbps`, `480h`, `640w`); else from its bitrate and frame rate
 * (`1.2Mbps@24fps`). Owncast's `720p` case, which tests width 1080, is kept as it is.
 */
export function variantName(v: StreamQuality): string {
  const bitrate = bitrateString(v.videoBitrate);
  const width = v.scaledWidth ?? 0;
  const height = v.scaledHeight ?? 0;
  if (v.name) return v.name;
  if (v.videoPassthrough) return 'Source';
  if (height === 720 && width === 1080) return `720p @${bitrate}`;
  if (height === 1080 && width === 1920) return `1080p @${bitrate}`;
  if (height !== 0) return `${height}h`;
  if (width !== 0) return `${width}w`;
  return `${bitrate}@${v.framerate}fps`;
}

/**
 * `/api/video/variants`: every variant's name and index, highest video bitrate first (what
 * Owncast means to do; its sort compares the unsorted list and can leave another order).
 */
export function variantsView(variants: readonly StreamQuality[]): VariantEntry[] {
  return variants
    .map((v, index) => ({ entry: { name: variantName(v), index }, bitrate: v.videoBitrate }))
    .sort((a, b) => b.bitrate - a.bitrate || a.entry.index - b.entry.index)
    .map((x) => x.entry);
}
