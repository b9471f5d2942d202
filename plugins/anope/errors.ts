/**
 * The family's errors: plain strings, never JSON, with the status codes of the original.
 * Every message a client can see is here, so the wire contract reads in one place.
 */
import { HttpError } from '../../src/index.js';

/** The exact texts of the original's errors (and ours where it had none). */
export const AnopeMessages = {
  /** Any route, for a type that is not registered (404). */
  unknownType: 'Unknown type',
  /** `?refs=` naming a type that is not registered (404). */
  unknownRefType: 'Unknown reference type',
  /** No object with that id, or no object matching a search (404). */
  notFound: 'Not found',
  /** The id belongs to an object of another type (404). */
  mismatch: 'Type/id mismatch',
  /** The id is not a number (400). */
  invalidId: 'Invalid id',
  /** The field is not one of the type's (404 on a search, 400 on a PUT). */
  noSuchField: 'No such field',
  /** A PUT without an id and a field (400). */
  noIdOrField: 'No id and/or field',
  /** A DELETE without an id (400). */
  noId: 'No id',
  /** A POST body that is not JSON (400). */
  badJson: 'Unable to parse JSON',
  /** A POST body that is JSON but not an object (400). */
  notObject: 'Unable to parse JSON: expected an object',
  /** Missing or wrong credentials (401). */
  unauthorized: 'Unauthorized',
} as const;

/** Stable codes of the anope errors (tests assert these, not the prose). */
export const AnopeErrorCodes = {
  /** `Unknown type`. */
  UNKNOWN_TYPE: 'ANOPE_UNKNOWN_TYPE',
  /** `Unknown reference type`. */
  UNKNOWN_REF_TYPE: 'ANOPE_UNKNOWN_REF_TYPE',
  /** `Not found`. */
  NOT_FOUND: 'ANOPE_NOT_FOUND',
  /** `Type/id mismatch`. */
  MISMATCH: 'ANOPE_TYPE_MISMATCH',
  /** `Invalid id`. */
  INVALID_ID: 'ANOPE_INVALID_ID',
  /** `No such field` (and `No such field <name>`). */
  NO_SUCH_FIELD: 'ANOPE_NO_SUCH_FIELD',
  /** `No id and/or field`, `No id`. */
  NO_ID_OR_FIELD: 'ANOPE_NO_ID_OR_FIELD',
  /** `Unable to parse JSON`. */
  BAD_JSON: 'ANOPE_BAD_JSON',
  /** A value that cannot be stored. */
  INVALID_VALUE: 'ANOPE_INVALID_VALUE',
  /** A reference that is malformed, dangling or of a type the field does not allow. */
  BAD_REFERENCE: 'ANOPE_BAD_REFERENCE',
  /** A delete whose cascade is nested deeper than the database allows. */
  CASCADE_TOO_DEEP: 'ANOPE_CASCADE_TOO_DEEP',
} as const;

/** An error of the anope store or routes, rendered as its plain message. */
export class AnopeError extends HttpError {
  /**
   * @param status - the HTTP status
   * @param message - the plain string the client sees
   * @param code - one of {@link AnopeErrorCodes}
   */
  constructor(status: number, message: string, code: string) {
    super(status, message, { code });
    this.name = 'AnopeError';
  }
}

/** 404 `Unknown type`. */
export const unknownType = () => new AnopeError(404, AnopeMessages.unknownType, AnopeErrorCodes.UNKNOWN_TYPE);
/** 404 `Unknown reference type`. */
export const unknownRefType = () => new AnopeError(404, AnopeMessages.unknownRefType, AnopeErrorCodes.UNKNOWN_REF_TYPE);
/** 404 `Not found`. */
export const notFound = () => new AnopeError(404, AnopeMessages.notFound, AnopeErrorCodes.NOT_FOUND);
/** 404 `Type/id mismatch`. */
export const mismatch = () => new AnopeError(404, AnopeMessages.mismatch, AnopeErrorCodes.MISMATCH);
/** 400 `Invalid id`. */
export const invalidId = () => new AnopeError(400, AnopeMessages.invalidId, AnopeErrorCodes.INVALID_ID);
/** 404 `No such field` (searches). */
export const noSuchFieldSearch = () => new AnopeError(404, AnopeMessages.noSuchField, AnopeErrorCodes.NO_SUCH_FIELD);
/** 400 `No such field` (updates). */
export const noSuchFieldUpdate = () => new AnopeError(400, AnopeMessages.noSuchField, AnopeErrorCodes.NO_SUCH_FIELD);
/** 400 `No such field <name>` (creates). */
export const noSuchFieldNamed = (name: string) => new AnopeError(400, `${AnopeMessages.noSuchField} ${name}`, AnopeErrorCodes.NO_SUCH_FIELD);
/** 400 `No id and/or field`. */
export const noIdOrField = () => new AnopeError(400, AnopeMessages.noIdOrField, AnopeErrorCodes.NO_ID_OR_FIELD);
/** 400 `No id`. */
export const noId = () => new AnopeError(400, AnopeMessages.noId, AnopeErrorCodes.NO_ID_OR_FIELD);
/** 400 `Unable to parse JSON`. */
export const badJson = (message: string = AnopeMessages.badJson) => new AnopeError(400, message, AnopeErrorCodes.BAD_JSON);
/** 400 for a value that cannot be stored (nested JSON, NUL characters). */
export const invalidValue = (field: string, why: string) => new AnopeError(400, `Invalid value for field ${field}: ${why}`, AnopeErrorCodes.INVALID_VALUE);
/** 400 for a reference that is malformed, dangling, or of a type the field does not allow. */
export const badReference = (message: string) => new AnopeError(400, message, AnopeErrorCodes.BAD_REFERENCE);
/** 409 when a delete's cascade is nested deeper than the database allows (nothing was deleted). */
export const cascadeTooDeep = () =>
  new AnopeError(409, 'Unable to delete: the cascade is nested too deeply for the database; delete the innermost objects first', AnopeErrorCodes.CASCADE_TOO_DEEP);
