/**
 * Markdown to safe HTML, for chat messages and for the page content.
 *
 * Rendering uses `markdown-it` (CommonMark, with raw HTML and linkified http(s) URLs, as
 * Owncast's goldmark setup), and the result is always cleaned by `sanitize-html` with an
 * allow-list, so that neither a chat user nor a page author can inject script. Chat allows
 * what Owncast's chat policy allows: paragraphs, line breaks, bold, emphasis, code, links
 * (opened in a new tab, without referrer) and emoji images from the local emoji directory.
 */
import { createRequire } from 'node:module';
import type MarkdownIt from 'markdown-it';
import type sanitizeHtml from 'sanitize-html';

// markdown-it (whose entity tables alone take ~20 ms to build), sanitize-html and its HTML
// and CSS parsers load on the first render, not when the server starts: a server whose chat
// is quiet never needs them, and every start would pay for them (issue 17: startup ≤ 2×).
const load = createRequire(import.meta.url);
let sanitizer: typeof sanitizeHtml | undefined;
const sanitizerLib = (): typeof sanitizeHtml => (sanitizer ??= load('sanitize-html') as typeof sanitizeHtml);

type Renderer = InstanceType<typeof MarkdownIt>;
let renderers: { chat: Renderer; page: Renderer } | undefined;
function markdown(): { chat: Renderer; page: Renderer } {
  if (renderers) return renderers;
  const MarkdownItClass = load('markdown-it') as typeof MarkdownIt;
  const chat = new MarkdownItClass({ html: true, linkify: true, breaks: false });
  chat.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
  const page = new MarkdownItClass({ html: true, linkify: true, typographer: false });
  page.linkify.set({ fuzzyEmail: false });
  return (renderers = { chat, page });
}

const linkAttributes = (tagName: string, attribs: sanitizeHtml.Attributes) => ({
  tagName,
  attribs: { ...attribs, target: '_blank', rel: 'nofollow noreferrer noopener' },
});

const CHAT_POLICY: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'strong', 'em', 'code', 'pre', 'a', 'img'],
  allowedAttributes: { a: ['href', 'target', 'rel'], img: ['src', 'alt', 'class', 'title'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  transformTags: { a: linkAttributes },
  // Images only from the local emoji directory, as Owncast allows.
  exclusiveFilter: (frame) => frame.tag === 'img' && !isEmojiPath(frame.attribs.src ?? ''),
};

/**
 * One path segment of an emoji image: letters, digits, `_`, `-` and dots, not starting with
 * a dot — so never `.` or `..`, and no `%` (an encoded `..` or `/`), `\`, `?` or `#`.
 */
const EMOJI_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * True when `src` is a plain path under `/img/emoji/`. The path is checked segment by segment
 * rather than by prefix, so that `/img/emoji/../../api/admin/disconnect` (which a browser
 * resolves to `/api/admin/disconnect`, a request sent with the viewer's credentials) and its
 * percent-encoded forms are refused.
 */
export function isEmojiPath(src: string): boolean {
  const segments = src.split('/');
  if (segments.length < 4 || segments[0] !== '' || segments[1].toLowerCase() !== 'img' || segments[2].toLowerCase() !== 'emoji') return false;
  return segments.slice(3).every((segment) => EMOJI_SEGMENT.test(segment));
}

let pagePolicy: sanitizeHtml.IOptions | undefined;
const makePagePolicy = (): sanitizeHtml.IOptions => ({
  allowedTags: [...sanitizerLib().defaults.allowedTags, 'img', 'h1', 'h2', 'del', 's', 'ins'],
  allowedAttributes: {
    a: ['href', 'name', 'target', 'rel', 'title'],
    img: ['src', 'srcset', 'alt', 'title', 'width', 'height', 'loading'],
    '*': ['class', 'id'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
});

/** Renders a chat message's markdown to sanitized HTML (`*x*` → `<p><em>x</em></p>`). */
export function renderChatBody(raw: string): string {
  return sanitizerLib()(markdown().chat.render(raw.trim()), CHAT_POLICY).trim();
}

/** Renders the page content's markdown to sanitized HTML. */
export function renderPageContent(raw: string): string {
  if (raw.trim() === '') return '';
  pagePolicy ??= makePagePolicy();
  return sanitizerLib()(markdown().page.render(raw.trim()), pagePolicy).trim();
}
