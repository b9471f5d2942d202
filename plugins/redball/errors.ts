/**
 * Domain errors of the redball stores and services. Routes turn them into redball's
 * envelope: {@link InvalidInput} → 400, {@link NotFound} → 404.
 */

/** The request cannot be done as asked (duplicate name, record in use, bad value); the message is for the client. */
export class InvalidInput extends Error {
  /** @param message - a sentence the client sees */
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInput';
  }
}

/** A record addressed by id does not exist; the message is for the client. */
export class NotFound extends Error {
  /** @param message - a sentence the client sees, e.g. `Bot 7 was not found.` */
  constructor(message: string) {
    super(message);
    this.name = 'NotFound';
  }
}
