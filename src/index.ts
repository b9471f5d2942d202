/**
 * Switchboard's public API: everything a host application or a plugin author uses.
 * Plugins import the kernel only through this module.
 *
 * @module switchboard
 */
export { Kernel, createKernel, KERNEL_TABLE_PREFIX, type KernelOptions, type KernelState } from './kernel.js';
export { definePlugin, Tokens, type PluginDescriptor, type PluginEntry, type PluginContext, type CliSession, type KernelMode } from './plugin.js';
export { addPluginCommands, processOutput, type CliOutput, type PluginCommandOptions } from './cli.js';
export { readSecret, stdinSecret, MAX_SECRET_INPUT, type SecretReader } from './cli-input.js';
export { SwitchboardError, ErrorCodes, isSwitchboardError, type ErrorCode } from './errors.js';
export { validateConfig, validatePluginConfig, closeObjects } from './config.js';
export { configProblems } from './config-problems.js';
export { orderPlugins, type GraphNode } from './graph.js';

export { openDatabase, configFromUrl, SQLITE_BUSY_TIMEOUT_MS, type DatabaseOption, type OpenedDatabase } from './db/database.js';
export { dialectOf, type Dialect, type DialectName } from './db/dialect.js';
export { runMigrations, migrationContext, type Migration, type MigrationContext } from './db/migrations.js';
export { GroupCommit, type GroupCommitOptions } from './db/group-commit.js';
export { BatchedLookup, type BatchedLookupOptions } from './db/batched-lookup.js';
export { knexStatements, sqlTransaction, transactionStatements, type SqlStatements, type SqlTransaction } from './db/statements.js';

export { EventBus, type SwitchboardEvents, type EventName, type EventListener, type EmitOptions, type EventForwarder } from './events.js';
export { LogRing, createLogging, REDACTED_PATHS, type Logger, type LogEntry, type LoggerOptions, type KernelLogging } from './logger.js';
export { SecretRegistry, safeEqual, hashToken, hashPassword, verifyPassword, verifyPasswordAsync, isPasswordHash, randomToken, MIN_SCRUBBED_SECRET_LENGTH } from './secrets.js';

export { HttpError, HttpErrorCodes, isHttpError, Reply, reply, type HttpErrorOptions, type ValidationIssue } from './http/http-error.js';
export type { RouteDefinition, AnyRouteDefinition, StaticOr, RouteContext, RouteDefaults, RouteRegistrar, RequestHook, HttpMethod, BodyKind, ResponseSpec } from './http/route.js';
export { applyErrorHeaders, type Responder } from './http/responder.js';
export { RawJson } from './http/raw-json.js';
export { compileSerializer, type JsonSerializer } from './http/serializer.js';
export { writeAnswer, writeJson, JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE } from './http/write.js';
export { jsonResponder, type JsonResponderOptions } from './http/responders/json.js';
export { textResponder, type TextResponderOptions } from './http/responders/text.js';
export { ocsResponder, ocsFormat, ocsXml, writeOcs, declaredData, type OcsFormat, type OcsMeta, type OcsResponderOptions } from './http/responders/ocs.js';
export { redballResponder, redballEnvelope, RedballAnswer, type RedballEnvelope } from './http/responders/redball.js';
export type { AuthStrategy, AuthContext, Principal, IdentityResolver, SecuritySchemeObject } from './http/auth/strategy.js';
export { staticToken, type StaticTokenOptions } from './http/auth/static-token.js';
export { apiKeyQuery, type ApiKeyQueryOptions } from './http/auth/api-key-query.js';
export { httpBasic, parseBasicAuth, type HttpBasicOptions, type BasicCredentials } from './http/auth/basic.js';
export { bearerToken, parseBearer, type BearerTokenOptions } from './http/auth/bearer.js';
export { hostIdentity, type HostIdentityOptions } from './http/auth/host-identity.js';
export { PasswordVerifier, VerifierBusyError, isVerifierBusy, type PasswordVerifierOptions } from './http/auth/password-verifier.js';
export { andThen, isPromiseLike, type MaybePromise } from './http/maybe-promise.js';
export { validationError, compilePart, type PartValidator, type PartValidation } from './http/validation.js';
export { DEFAULT_BODY_LIMIT, MAX_JSON_DEPTH, jsonDepthExceeds } from './http/body.js';
export { buildOpenApi, openApiPath, templateShape, SAME_SERVER, type OpenApiDocument, type OpenApiOptions } from './http/openapi.js';
export { apiReference, type ApiReferenceOptions } from './http/api-reference.js';
export { expressServerOptions, type ExpressServerOptions } from './http/express-server-options.js';
export { joinPath, type PluginHttp } from './http/dispatcher.js';

export { KernelMetrics, RouteMetrics, HTTP_DURATION_BUCKETS, type MetricsOptions, type MetricSources, type OutboxBacklog } from './observability/metrics.js';
export { METRIC_PREFIX } from './observability/metrics-prefix.js';
export { PluginMetrics, type MetricDefinition, type GaugeDefinition, type HistogramDefinition, type Counter, type Gauge, type Histogram } from './observability/plugin-metrics.js';
export { readOutboxBacklog } from './observability/outbox-backlog.js';
export { currentRequest, currentRequestId, requestIdFor, withRequestContext, REQUEST_ID_HEADER, REQUEST_ID_PATTERN, type RequestContext } from './observability/request-context.js';
export { accessLog, redactRequestUrl } from './observability/access-log.js';
export { tracer, inSpan, TRACER_NAME, type InSpanOptions } from './observability/tracing.js';
export { type RequestObserver, type DispatcherOptions } from './http/dispatcher.js';

export { WebSocketHub, MAX_WEBSOCKET_PAYLOAD, type WebSocketRoute, type WebSocketRegistrar, type UpgradeRefusal } from './websocket.js';

export {
  Outbox,
  type OutboxOptions,
  type OwnerOutbox,
  type EnqueuedDelivery,
  type DeliveryInput,
  type Signer,
  type SignerInput,
  type SuccessRule,
  type AttemptOutcome,
  type OutboxStats,
  type DeadDelivery,
} from './outbox/outbox.js';
export { UrlPolicy, type UrlPolicyOptions } from './outbox/url-policy.js';
export { AttemptLog, ATTEMPTS_KEPT, ATTEMPT_ERROR_MAX, sanitizeAttemptError, type AttemptRecord } from './outbox/attempt-log.js';
export {
  OutboxOperator,
  DELIVERY_STATES,
  PURGEABLE_STATES,
  LIST_LIMIT_MAX,
  REPLAY_BATCH_MAX,
  redactUrl,
  type DeliveryState,
  type PurgeableState,
  type DeliverySummary,
  type DeliveryDetail,
  type DeliveryFilter,
  type ReplayResult,
  type ReplayDeadResult,
} from './outbox/operator.js';
export { createAdminRouter, DEFAULT_ADMIN_PREFIX, type AdminOptions } from './outbox/admin-api.js';
export { addOutboxCommands, formatTable, type OutboxCommandOptions } from './outbox/commands.js';
export { parseDuration } from './outbox/duration.js';
export { LeaseService, type Leases } from './cluster/leases.js';
export { PgEventBridge, CLUSTER_CHANNEL } from './cluster/pg-bridge.js';

export { Type, type Static, type TSchema } from 'typebox';
