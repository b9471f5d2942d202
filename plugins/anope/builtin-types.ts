/**
 * Anope's own object types with their fields and reference rules. The order is the order
 * of the documentation's `/rest/types` example, so that answer is the same byte for byte.
 *
 * `C` in the notes is `onDelete: 'cascade'` (deleting the target deletes this object,
 * recursively), `N` is `onDelete: 'null'` (the field is cleared).
 */
import type { FieldSpec, TypeSpec } from './type-registry.js';

const cascade = (name: string, ref: string): FieldSpec => ({ name, ref, onDelete: 'cascade' });
const nulled = (name: string, ref: string): FieldSpec => ({ name, ref, onDelete: 'null' });
const channelAccess = (extra: string): TypeSpec['fields'] => [
  cascade('ci', 'channel'),
  'mask',
  cascade('obj', 'account'),
  'creator',
  'last_seen',
  'created',
  extra,
];

/** The built-in types, in the order `/rest/types` lists them. */
export const BUILTIN_TYPES: readonly TypeSpec[] = [
  { name: 'botinfo', fields: [{ name: 'nick', nocase: true }, 'user', 'host', 'realname', 'created', 'operonly'] },
  { name: 'xline', fields: ['mask', 'by', 'reason', 'created', 'expires', 'uid', 'manager'] },
  { name: 'oper', fields: ['name', 'type', 'password', 'certfp', 'host', 'vhost', 'require_oper'] },
  { name: 'badword', fields: [cascade('ci', 'channel'), 'word', 'type'] },
  {
    name: 'channel',
    fields: [
      { name: 'name', nocase: true },
      'desc',
      'time_registered',
      'last_used',
      'last_topic',
      'last_topic_setter',
      'last_topic_time',
      'bantype',
      'banexpire',
      nulled('founder', 'account'),
      nulled('successor', 'account'),
      nulled('bi', 'botinfo'),
    ],
  },
  { name: 'level', fields: [cascade('ci', 'channel'), 'name', 'level'] },
  { name: 'mlockmode', fields: [cascade('ci', 'channel'), 'name', 'param', 'set', 'setter', 'created'] },
  { name: 'accesschanaccess', fields: channelAccess('level') },
  { name: 'akick', fields: [cascade('ci', 'channel'), 'mask', cascade('nc', 'account'), 'reason', 'creator', 'addtime', 'last_time'] },
  { name: 'entrymsg', fields: [cascade('ci', 'channel'), 'creator', 'message', 'when'] },
  { name: 'flagschanaccess', fields: channelAccess('flags') },
  { name: 'logsetting', fields: [cascade('ci', 'channel'), 'service_name', 'command_service', 'command_name', 'method', 'extra', 'creator', 'created'] },
  { name: 'modelock', fields: [cascade('ci', 'channel'), 'name', 'param', 'set', 'setter', 'created'] },
  { name: 'csmiscdata', fields: [cascade('ci', 'channel'), 'name', 'data'] },
  { name: 'cssuspendinfo', fields: [cascade('ci', 'channel'), 'by', 'reason', 'time', 'expires'] },
  { name: 'xopchanaccess', fields: channelAccess('type') },
  { name: 'vhost', fields: [cascade('owner', '*'), 'vident', 'vhost', 'creator', 'created', 'default'] },
  { name: 'hostrequest', fields: [cascade('nc', 'account'), 'ident', 'host', 'time'] },
  { name: 'memoinfo', fields: [cascade('owner', '*'), 'memomax'] },
  { name: 'memo', fields: [cascade('mi', 'memoinfo'), 'time', 'sender', 'text', 'unread', 'receipt'] },
  { name: 'memoignore', fields: [cascade('mi', 'memoinfo'), 'mask'] },
  {
    name: 'nick',
    fields: [
      { name: 'nick', nocase: true },
      'last_quit',
      'last_realname',
      'last_usermask',
      'last_realhost',
      'time_registered',
      'last_seen',
      nulled('nc', 'account'),
    ],
  },
  { name: 'account', fields: [{ name: 'display', nocase: true }, 'pass', 'email', 'language'] },
  { name: 'mode', fields: [cascade('nc', 'account'), 'mode'] },
  { name: 'nsaccess', fields: [cascade('account', 'account'), 'mask'] },
  { name: 'autojoin', fields: [cascade('owner', 'account'), 'channel', 'key'] },
  { name: 'nsmiscdata', fields: [cascade('nc', 'account'), 'name', 'data'] },
  { name: 'nssuspendinfo', fields: [cascade('nc', 'account'), 'by', 'reason', 'time', 'expires'] },
  { name: 'forbid', fields: ['mask', 'creator', 'reason', 'created', 'expires', 'type'] },
  { name: 'ignore', fields: ['mask', 'creator', 'reason', 'time'] },
  { name: 'operinfo', fields: [cascade('target', '*'), 'info', 'adder', 'created'] },
  { name: 'newsitem', fields: ['type', 'text', 'who', 'time'] },
  { name: 'exception', fields: ['mask', 'limit', 'who', 'reason', 'time', 'expires'] },
  { name: 'stats', fields: ['maxusercnt', 'maxusertime'] },
];

/**
 * Built-in types that are off unless the config's `optionalTypes` names them: types of
 * Anope modules that the documentation's `/rest/types` example does not list.
 */
export const OPTIONAL_TYPES: readonly TypeSpec[] = [{ name: 'nscert', fields: [cascade('nc', 'account'), 'mask'] }];
