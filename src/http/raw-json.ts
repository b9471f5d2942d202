/**
 * JSON that is already serialized. A handler that answers the same large document many
 * times (a cached list) returns `new RawJson(text)` and the JSON responders write the text
 * as it is instead of serializing the value on every request.
 */
export class RawJson {
  private encoded?: Buffer;
  private utf8Length?: number;

  /** @param text - a complete JSON value, serialized */
  constructor(readonly text: string) {}

  /** The text in UTF-8, encoded once (a cached RawJson answers many requests). */
  get bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.text, 'utf8'));
  }

  /** The length of the text in UTF-8 bytes, counted once. */
  get byteLength(): number {
    return (this.utf8Length ??= this.encoded?.length ?? Buffer.byteLength(this.text, 'utf8'));
  }

  /** Serializes `value` once. */
  static of(value: unknown): RawJson {
    return new RawJson(JSON.stringify(value));
  }
}
