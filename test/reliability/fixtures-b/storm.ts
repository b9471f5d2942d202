/**
 * A write storm across the families against a running standalone server, with a ledger of
 * what each write was: acknowledged (a 2xx arrived), unknown (cut by a crash: it may or may
 * not have committed), or refused (any other answer). After a crash the ledger tells what
 * must be there.
 */
import type { Answer, Clients } from './standalone.js';

/** One write's fate. */
export type Fate = 'acked' | 'unknown' | 'refused';

/** A write that creates something: every acknowledged one must exist afterwards. */
export interface Created {
  kind: string;
  /** What identifies it afterwards (an id, a unique text). */
  key: string;
  /** The value to find under that key. */
  value: string;
  fate: Fate;
  status?: number;
  body?: string;
}

/** A write that sets a value in a sequence of writes to the same place by one writer. */
export interface SetWrite {
  kind: string;
  /** The place (e.g. `anope:account:3:email`). */
  place: string;
  value: string;
  fate: Fate;
  status?: number;
  body?: string;
}

/** Everything the storm did. */
export class Ledger {
  readonly created: Created[] = [];
  /** Per place, the writes in the order they were sent (one writer per place). */
  readonly sets = new Map<string, SetWrite[]>();
  /** Network errors other than the crash (should stay empty). */
  readonly refused: Array<Created | SetWrite> = [];

  /** Acknowledged writes. */
  get acked(): number {
    let n = this.created.filter((c) => c.fate === 'acked').length;
    for (const seq of this.sets.values()) n += seq.filter((s) => s.fate === 'acked').length;
    return n;
  }

  /** Acknowledged writes by kind, e.g. `anope account 40, talk message 38`. */
  byKind(): string {
    const counts = new Map<string, number>();
    const all = [...this.created, ...[...this.sets.values()].flat()];
    for (const e of all) if (e.fate === 'acked') counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
  }

  /** Records a set-type write and returns it (to update its fate). */
  set(kind: string, place: string, value: string): SetWrite {
    const w: SetWrite = { kind, place, value, fate: 'unknown' };
    let seq = this.sets.get(place);
    if (!seq) this.sets.set(place, (seq = []));
    seq.push(w);
    return w;
  }

  /**
   * Checks one place's final value against its writes: the value must be that of the last
   * acknowledged write or of a later write whose fate is unknown. Returns how many
   * acknowledged writes are accounted for (present, or overwritten by a later write), and
   * a problem when the final value is something else.
   */
  checkPlace(place: string, finalValue: string | undefined): { found: number; problem?: string } {
    const seq = this.sets.get(place) ?? [];
    const acked = seq.filter((s) => s.fate === 'acked');
    if (acked.length === 0) return { found: 0 };
    const lastAcked = seq.lastIndexOf(acked[acked.length - 1]);
    // The final value is the effect of the latest write that committed: search from the end.
    let at = -1;
    for (let i = seq.length - 1; i >= 0; i--) {
      if (seq[i].value === finalValue && (seq[i].fate === 'acked' || seq[i].fate === 'unknown')) {
        at = i;
        break;
      }
    }
    if (at < lastAcked) {
      return { found: at < 0 ? 0 : acked.filter((a) => seq.indexOf(a) <= at).length, problem: `${place}: found ${JSON.stringify(finalValue)}, but write #${lastAcked} (${JSON.stringify(seq[lastAcked].value)}) was acknowledged` };
    }
    return { found: acked.length };
  }
}

/** Gives an answer its fate: acknowledged on 2xx, refused otherwise. */
export function fateOf(answer: Answer): Fate {
  return answer.status >= 200 && answer.status < 300 ? 'acked' : 'refused';
}

/** What a storm needs that was set up before it. */
export interface StormTargets {
  /** Per writer, an anope account whose `email` it keeps setting. */
  anopeAccounts: string[];
  /** Per writer, a redball bot to add settings to. */
  redballBots: number[];
  /** A Talk conversation token. */
  talkRoom: string;
  /** An Owncast access token that may send user messages (when owncast works). */
  owncastToken?: string;
}

/** The writes of one writer, in turn; returns false when the server is gone. */
export function writer(c: Clients, ledger: Ledger, targets: StormTargets, w: number) {
  let i = 0;
  const families = ['anope-create', 'anope-put', 'redball-bot', 'redball-setting', 'opsdroid', 'talk', ...(targets.owncastToken ? ['owncast-chat', 'owncast-config'] : [])];
  const track = async <T extends Created | SetWrite>(entry: T, send: () => Promise<Answer>, onAck?: (a: Answer) => void): Promise<void> => {
    const answer = await send(); // a network error propagates: the server is gone
    entry.fate = fateOf(answer);
    entry.status = answer.status;
    if (entry.fate === 'acked') onAck?.(answer);
    else {
      entry.body = answer.text.slice(0, 300);
      ledger.refused.push(entry);
    }
  };
  return async function step(): Promise<void> {
    const n = i++;
    const family = families[(n + w) % families.length];
    const tag = `w${w}-${n}`;
    const chat = () => {
      const entry: Created = { kind: 'owncast chat message', key: `crash chat ${tag}`, value: `crash chat ${tag}`, fate: 'unknown' };
      ledger.created.push(entry);
      return track(entry, () => c.owncast.integration(targets.owncastToken!, '/api/integrations/chat/user', { user: `writer${w}`, body: entry.value }));
    };
    switch (family) {
      case 'anope-create': {
        const entry: Created = { kind: 'anope account', key: '', value: `crash-${tag}`, fate: 'unknown' };
        ledger.created.push(entry);
        return track(entry, () => c.anope.create('account', { display: entry.value, email: `${tag}@example.org` }), (a) => (entry.key = a.text.trim()));
      }
      case 'anope-put': {
        const account = targets.anopeAccounts[w];
        const entry = ledger.set('anope email', `anope:account:${account}:email`, `${tag}@example.net`);
        return track(entry, () => c.anope.put('account', account, 'email', entry.value));
      }
      case 'redball-bot': {
        const entry: Created = { kind: 'redball bot', key: '', value: `crash-${tag}`, fate: 'unknown' };
        ledger.created.push(entry);
        return track(entry, () => c.redball.call('POST', '/bots', undefined, { name: entry.value, botType: '1', autoRun: 'False' }), (a) => (entry.key = String(a.json.response.bots[0].id)));
      }
      case 'redball-setting': {
        const bot = targets.redballBots[w % targets.redballBots.length];
        const key = `K_${tag.replace('-', '_').toUpperCase()}`;
        const entry: Created = { kind: 'redball setting', key: `${bot}/Crash/${key}`, value: String(n), fate: 'unknown' };
        ledger.created.push(entry);
        return track(entry, () => c.redball.call('POST', `/bots/${bot}/config`, { Crash: [{ key, type: 'int', val: n }] }));
      }
      case 'opsdroid': {
        const entry = ledger.set('opsdroid module setting', `opsdroid:skills:hello:crash-w${w}`, String(n));
        return track(entry, () => c.opsdroid.patch('skills', 'hello', { [`crash-w${w}`]: n }));
      }
      case 'talk': {
        const entry: Created = { kind: 'talk message', key: '', value: `crash message ${tag}`, fate: 'unknown' };
        ledger.created.push(entry);
        return track(entry, () => c.talk.post(targets.talkRoom, entry.value), (a) => (entry.key = String(a.json.ocs.data.id)));
      }
      case 'owncast-config':
        if (w === 0) {
          // One writer owns the stream title, so its writes form one sequence.
          const entry = ledger.set('owncast stream title', 'owncast:streamTitle', `crash title ${tag}`);
          return track(entry, () => c.owncast.admin('/api/admin/config/streamtitle', { value: entry.value }));
        }
        return chat();
      case 'owncast-chat':
        return chat();
    }
  };
}
