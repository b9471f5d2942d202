/**
 * The OCS envelope of Nextcloud's APIs, in JSON and XML:
 * `{"ocs": {"meta": {"status", "statuscode", "message"}, "data": …}}`.
 *
 * The format is chosen by the `format` query parameter (`json`/`xml`), else by the Accept
 * header, else XML — as Nextcloud does. In XML, list items are written as `<element>`.
 */
import type { Request, Response } from 'express';
import { XMLBuilder } from 'fast-xml-parser';
import { applyErrorHeaders, type Responder } from '../responder.js';
import type { HttpError } from '../http-error.js';
import type { JsonSerializer } from '../serializer.js';
import { writeAnswer } from '../write.js';

/** The two OCS formats. */
export type OcsFormat = 'json' | 'xml';

/** Picks the OCS format of a request: `?format=`, else the Accept header, else XML. */
export function ocsFormat(req: Request): OcsFormat {
  const format = typeof req.query?.format === 'string' ? req.query.format.toLowerCase() : undefined;
  if (format === 'json' || format === 'xml') return format;
  const accept = String(req.headers.accept ?? '');
  if (accept.includes('application/json')) return 'json';
  return 'xml';
}

/** The `meta` object of an OCS answer. */
export interface OcsMeta {
  /** `ok` for 2xx/3xx, else `failure`. */
  status: 'ok' | 'failure';
  /** The OCS status code (the HTTP status in OCS v2, or a legacy code such as 997). */
  statuscode: number;
  /** `OK` on success, else the error message or an empty string. */
  message: string;
}

const builder = new XMLBuilder({ format: true, indentBy: ' ', suppressEmptyNode: true });

/** Maps a JSON value to the shape XMLBuilder writes the way Nextcloud's XMLWriter does. */
function toXmlValue(value: unknown): unknown {
  if (value === null || value === undefined || value === false) return '';
  if (value === true) return 1;
  if (Array.isArray(value)) return value.length === 0 ? '' : { element: value.map(toXmlValue) };
  if (typeof value === 'object') {
    // Keyed by the data's own keys (reaction texts, …): a null-prototype object, so a key
    // `__proto__` is written as an element like any other instead of replacing the prototype.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // Numeric keys become <element>, as in Nextcloud.
      const key = /^\d+$/.test(k) ? 'element' : k;
      const mapped = toXmlValue(v);
      if (key === 'element' && key in out) {
        const prev = out[key];
        out[key] = Array.isArray(prev) ? [...prev, mapped] : [prev, mapped];
      } else out[key] = mapped;
    }
    return Object.keys(out).length === 0 ? '' : out;
  }
  return value;
}

/** Serializes an OCS envelope as Nextcloud's XML. */
export function ocsXml(meta: OcsMeta, data: unknown): string {
  return `<?xml version="1.0"?>\n${builder.build({ ocs: { meta, data: toXmlValue(data) } })}`;
}

const OCS_JSON = 'application/json; charset=utf-8';
const OCS_XML = 'application/xml; charset=utf-8';

/**
 * Writes one OCS answer in the request's format. `serialize` (compiled from the route's
 * response schema, the whole envelope) writes the JSON form; the XML form is written from
 * what it keeps, so neither form carries an undeclared field.
 */
export function writeOcs(req: Request, res: Response, status: number, meta: OcsMeta, data: unknown, serialize?: JsonSerializer): void {
  if (ocsFormat(req) === 'json') writeAnswer(res, status, OCS_JSON, (serialize ?? JSON.stringify)({ ocs: { meta, data } }));
  else writeAnswer(res, status, OCS_XML, ocsXml(meta, serialize ? declaredData(serialize, meta, data) : data));
}

/** The envelope's data as its serializer keeps it (the XML form, rare, pays a parse). */
export function declaredData(serialize: JsonSerializer, meta: OcsMeta, data: unknown): unknown {
  return (JSON.parse(serialize({ ocs: { meta, data } })) as { ocs: { data?: unknown } }).ocs.data;
}

/** Options of {@link ocsResponder}. */
export interface OcsResponderOptions {
  /** Maps an HTTP status to the OCS `statuscode` of errors (default: the same number). */
  statuscode?: (err: HttpError) => number;
}

/**
 * The OCS responder. Errors carry `data: []` unless the {@link HttpError} has `data`.
 */
export function ocsResponder(options: OcsResponderOptions = {}): Responder {
  const statuscode = options.statuscode ?? ((err: HttpError) => err.status);
  return {
    name: 'ocs',
    send(req, res, status, body, serialize) {
      writeOcs(req, res, status, { status: status < 400 ? 'ok' : 'failure', statuscode: status, message: status < 400 ? 'OK' : '' }, body ?? [], serialize);
    },
    error(req, res, err) {
      applyErrorHeaders(res, err);
      writeOcs(req, res, err.status, { status: 'failure', statuscode: statuscode(err), message: err.message }, err.data ?? []);
    },
  };
}
