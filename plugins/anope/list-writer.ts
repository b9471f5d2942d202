/**
 * Streams a `{"<key>": [ ... ]}` list page by page: one query and one write per page,
 * waiting for the socket to drain, so the server's memory stays flat whatever the size. The
 * first page is read before anything is written, so a failing query still gets a proper
 * error; a failure later can only cut the connection.
 */
import type { Request, Response } from 'express';
import { listClosing, listItem, listOpening, type WireObject } from './json-writer.js';

/** Fetches the page of objects after an id (0 for the first). */
export type PageFetcher = (afterId: number) => Promise<WireObject[]>;

/** Resolves when the socket wants more, or at once when the client is gone. */
function drained(res: Response): Promise<void> {
  if (res.destroyed || res.closed || !res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes the list to `res` (headers only for HEAD). */
export async function streamList(req: Request, res: Response, key: string, pageSize: number, fetchPage: PageFetcher): Promise<void> {
  let page = await fetchPage(0);
  res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let empty = true;
  let chunk = listOpening(key);
  for (;;) {
    for (const obj of page) {
      chunk += listItem(obj, empty);
      empty = false;
    }
    if (page.length < pageSize) break;
    // Nothing of this page outlives it: only its last id and its bytes cross the awaits below,
    // so the rows die young instead of being promoted to the old heap, page after page.
    const lastId = Number(page[page.length - 1].id);
    page = [];
    if (res.destroyed || res.closed) return;
    const flushed = res.write(Buffer.from(chunk, 'utf8'));
    chunk = '';
    if (!flushed) await drained(res);
    if (res.destroyed || res.closed || res.writableEnded) return;
    page = await fetchPage(lastId);
  }
  res.end(chunk + listClosing(empty));
}
