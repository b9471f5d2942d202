/**
 * The JSON bodies of the read endpoints, built from the settings and the broadcast state:
 * `/api/config`, `/api/status`, `/api/yp`, `/api/admin/status`, `/api/admin/serverconfig`.
 */
import type { BroadcastState } from './broadcast-state.js';
import { OWNCAST_API_VERSION, SOCIAL_PLATFORMS } from './constants.js';
import { renderPageContent } from './markdown.js';
import type { Settings, SocialHandle } from './settings.js';
import { variantName } from './variants.js';

/** `/api/status`. */
export interface StatusView {
  /** A broadcast is on. */
  online: boolean;
  /** Connected viewers (0 while offline, as Owncast). */
  viewerCount: number;
  /** All-time peak. */
  overallMaxViewerCount: number;
  /** Peak of the current or last broadcast. */
  sessionMaxViewerCount: number;
  /** When the last broadcast started (ISO 8601), or null. */
  lastConnectTime: string | null;
  /** When the last broadcast ended (ISO 8601), or null. */
  lastDisconnectTime: string | null;
  /** The server's version. */
  versionNumber: string;
  /** The stream title. */
  streamTitle: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** `/api/status`. */
export function statusView(state: BroadcastState, viewers: number, settings: Settings, versionNumber: string): StatusView {
  return {
    online: state.online,
    viewerCount: state.online ? viewers : 0,
    overallMaxViewerCount: state.overallPeakViewerCount,
    sessionMaxViewerCount: state.sessionPeakViewerCount,
    lastConnectTime: iso(state.lastConnectTime),
    lastDisconnectTime: iso(state.lastDisconnectTime),
    versionNumber,
    streamTitle: settings.streamTitle,
  };
}

/** `/api/admin/status`. */
export function adminStatusView(state: BroadcastState, viewers: number, settings: Settings, versionNumber: string): Record<string, unknown> {
  const b = state.broadcaster;
  const d = b?.streamDetails ?? {};
  return {
    broadcaster: b
      ? {
          remoteAddr: b.remoteAddr,
          time: b.time,
          streamDetails: {
            width: Math.round(d.width ?? 0),
            height: Math.round(d.height ?? 0),
            frameRate: Math.round(d.frameRate ?? 0),
            // Owncast itself writes the frame rate as `framerate`; both are sent.
            framerate: d.frameRate ?? 0,
            videoBitrate: Math.round(d.videoBitrate ?? 0),
            videoCodec: d.videoCodec ?? '',
            audioBitrate: Math.round(d.audioBitrate ?? 0),
            audioCodec: d.audioCodec ?? '',
            encoder: d.encoder ?? '',
          },
        }
      : null,
    online: state.online,
    viewerCount: state.online ? viewers : 0,
    sessionPeakViewerCount: state.sessionPeakViewerCount,
    overallPeakViewerCount: state.overallPeakViewerCount,
    versionNumber,
    streamTitle: settings.streamTitle,
  };
}

/** The version string of `/api/config`. */
export function versionString(pluginVersion: string): string {
  return `Owncast v${OWNCAST_API_VERSION} (Switchboard owncast plugin ${pluginVersion})`;
}

function withIcons(handles: readonly SocialHandle[]): Array<SocialHandle & { icon?: string }> {
  return handles.map((h) => {
    const icon = SOCIAL_PLATFORMS.get(h.platform.toLowerCase())?.icon;
    return icon ? { ...h, icon } : { ...h };
  });
}

/** `/api/config`: what the web UI shows. */
export function webConfigView(settings: Settings, version: string): Record<string, unknown> {
  return {
    name: settings.name,
    summary: settings.summary,
    logo: '/logo',
    tags: settings.tags,
    nsfw: settings.nsfw,
    extraPageContent: renderPageContent(settings.pageContent),
    version,
    ...(settings.streamTitle !== '' ? { streamTitle: settings.streamTitle } : {}),
    socialHandles: withIcons(settings.socialHandles),
    chatDisabled: settings.chatDisabled,
    externalActions: settings.externalActions,
    customStyles: settings.customStyles,
  };
}

/** `/api/admin/serverconfig`: every setting, as the admin UI edits them (page content as markdown). */
export function serverConfigView(settings: Settings, streamKey: string, version: string): Record<string, unknown> {
  return {
    instanceDetails: {
      name: settings.name,
      summary: settings.summary,
      welcomeMessage: settings.welcomeMessage,
      logo: settings.logo,
      tags: settings.tags,
      nsfw: settings.nsfw,
      extraPageContent: settings.pageContent,
      streamTitle: settings.streamTitle,
      socialHandles: settings.socialHandles,
      customStyles: settings.customStyles,
      version,
    },
    ffmpegPath: settings.ffmpegPath,
    webServerPort: settings.webServerPort,
    rtmpServerPort: settings.rtmpServerPort,
    streamKey,
    s3: settings.s3,
    // Each variant with its display name, as Owncast lists them.
    videoSettings: { videoQualityVariants: settings.streamOutputVariants.map((v) => ({ ...v, name: variantName(v) })), latencyLevel: settings.latencyLevel },
    videoCodec: settings.videoCodec,
    yp: { enabled: settings.directoryEnabled, instanceUrl: settings.serverUrl },
    chatDisabled: settings.chatDisabled,
    externalActions: settings.externalActions,
  };
}

/** `/api/yp`: what the Owncast directory reads. */
export function ypView(state: BroadcastState, viewers: number, settings: Settings): Record<string, unknown> {
  return {
    name: settings.name,
    description: settings.summary,
    logo: '/logo',
    nsfw: settings.nsfw,
    tags: settings.tags,
    online: state.online,
    viewerCount: state.online ? viewers : 0,
    overallMaxViewerCount: state.overallPeakViewerCount,
    sessionMaxViewerCount: state.sessionPeakViewerCount,
    lastConnectTime: iso(state.lastConnectTime),
  };
}
