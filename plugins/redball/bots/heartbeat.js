// @ts-check
/**
 * The built-in `heartbeat` bot: a bot module like any in a bots directory, shipped with the
 * plugin (dist/plugins/redball/bots/heartbeat.js) and loaded by its file URL in the bot's
 * worker thread. It is plain JavaScript so that the very same file runs from the sources, from
 * dist/ and next to the bundle, with no compiler or loader in the worker.
 *
 * Every `Heartbeat/INTERVAL_MS` milliseconds (default 5000, at least 10) it publishes a counter
 * and a timestamp in its detailedState, with the text of `Heartbeat/MESSAGE` (default "alive"),
 * until it is stopped.
 */

/** @param {string} s */
const escapeHtml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The bot's run function.
 *
 * @param {import('../runner/bot-api.js').BotRunContext} ctx - what every bot's run function receives
 * @returns {Promise<void>} settles once the bot has stopped
 */
export async function run(ctx) {
  const own = ctx.settings.Heartbeat ?? {};
  const requested = Number(own.INTERVAL_MS ?? 5000);
  const intervalMs = Number.isFinite(requested) ? Math.max(10, Math.floor(requested)) : 5000;
  const message = String(own.MESSAGE ?? 'alive');
  const startedAt = new Date().toISOString();
  let count = 0;
  ctx.log.info(`heartbeat every ${intervalMs} ms`);
  while (!ctx.signal.aborted) {
    count += 1;
    const at = new Date().toISOString();
    const text = `${message} #${count} at ${at}`;
    ctx.publishState({
      summary: { text, html: `<p>${escapeHtml(text)}</p>`, markdown: text },
      heartbeat: { count, at, startedAt, intervalMs },
    });
    await ctx.sleep(intervalMs);
  }
  ctx.log.info(`heartbeat stopped after ${count} beats`);
}
