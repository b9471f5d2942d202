/** The shapes of chat messages and websocket frames, as Owncast 0.0.7 clients see them. */

/** A chat message as the API and the websocket show it. */
export interface ChatMessage {
  /** Server-assigned id. */
  id: string;
  /** The author's name. */
  author: string;
  /** The body rendered from markdown to sanitized HTML. */
  body: string;
  /** The event type (`CHAT`, `SYSTEM`, `CHAT_ACTION`, `STREAM_STARTED`, …). */
  type: string;
  /** False when hidden by a moderator. */
  visible: boolean;
  /** Server-assigned time (ISO 8601). */
  timestamp: string;
}

/** A stored chat message: what the API shows plus the raw markdown (for webhooks). */
export interface StoredChatMessage extends ChatMessage {
  /** The markdown as written. */
  rawBody: string;
}

/** Anything sent over the chat websocket: a message, a join, a name change, a PING. */
export interface ChatFrame {
  /** The event type. */
  type: string;
  /** The other fields of the frame. */
  [field: string]: unknown;
}

/** A connected chat client, as `/api/admin/clients` lists it. */
export interface ChatClientInfo {
  /** When it connected (ISO 8601). */
  connectedAt: string;
  /** Chat messages it sent. */
  messageCount: number;
  /** Its user agent. */
  userAgent: string;
  /** Its IP address. */
  ipAddress: string;
  /** Its chat name, once it has given one. */
  username: string | null;
  /** Its id. */
  clientID: string;
}
