import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BillingLedger, type SimBilling } from './billing.ts';
import { CallbackDispatcher } from './callbacks.ts';
import { ConcurrencyGate } from './concurrency-gate.ts';
import { sendError } from './http-io.ts';
import { RunLifecycle } from './lifecycle.ts';
import { checkOutageMode, type OutageMode, sendOutage, setListening } from './outage.ts';
import { TokenBucket } from './rate-limit.ts';
import { handleOutput } from './routes-outputs.ts';
import { handleSimControl } from './routes-sim.ts';
import { handleV1, recordMetered } from './routes-v1.ts';
import { type SimRun, toSimRun } from './run-object.ts';
import { RunStore } from './run-store.ts';
import { RequestLog, type SimContext } from './sim-context.ts';
import {
  type CapMode,
  checkBalance,
  checkConcurrencyCaps,
  checkIdempotency,
  checkLatency,
  checkRateLimit,
  checkSigningSecret,
  type IdempotencyMode,
  type LatencyRangeMs,
  mergeFaults,
  noFaults,
  resolveOptions,
  type SimFaults,
  type SimOptions,
} from './sim-options.ts';
import { mergePricing, type SimPricing } from './sim-pricing.ts';
import { countResponse, emptyCounters, type SimStats, snapshotStats } from './stats.ts';

/** The settings that can change while the simulator runs (the signing secret itself is not shown). */
export interface SimRuntimeConfig {
  faults: SimFaults;
  latencyMs: LatencyRangeMs;
  signing: boolean;
  idempotency: IdempotencyMode;
  rateLimitPerSecond: number | null;
  holdingCallbacks: boolean;
  outage: OutageMode;
  pricing: SimPricing;
  /** Per-model caps of runs in flight, and what a create over one gets; null = no caps. */
  concurrencyCaps: { models: Record<string, number>; mode: CapMode } | null;
}

export interface Sim {
  /** Base URL to use in place of https://api.runflow.io, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  /** The first accepted API key. */
  readonly apiKey: string;
  /** Stops the server, every lifecycle timer and every pending callback. Safe to call twice. */
  close(): Promise<void>;
  /** Merges into the current faults; `setFaults({})` changes nothing. */
  setFaults(faults: Partial<SimFaults>): void;
  clearFaults(): void;
  /** Applies to runs created from now on. */
  setLatency(latencyMs: LatencyRangeMs): void;
  /** Signs every later callback attempt, including retries of runs already finished. */
  setSigningSecret(secret: string | null): void;
  setIdempotency(mode: IdempotencyMode): void;
  setRateLimit(perSecond: number | undefined): void;
  /** Merges into how runs are billed from now on (see sim-pricing.ts); throws on a bad field. */
  setPricing(pricing: Partial<SimPricing>): void;
  /**
   * Per-model caps of runs in flight (null: none). Runs already in flight keep their slots; in queue
   * mode, waiting runs take the slots a higher cap (or no cap) frees.
   */
  setConcurrencyCaps(caps: { models: Record<string, number>; mode?: CapMode } | null): void;
  /** While on, callbacks that become due are held, not sent; turning it off sends them. */
  holdCallbacks(on: boolean): void;
  /** Sends held callbacks (of one run, or all) now; resolves when each is delivered or given up. */
  releaseCallbacks(runId?: string): Promise<void>;
  runs(): SimRun[];
  getRun(id: string): SimRun | undefined;
  /** Admin cancellation, as POST /v1/admin/runs/{id}/cancellation; undefined for an unknown run. */
  cancelRun(id: string): SimRun | undefined;
  billing(): SimBilling;
  /** The prepaid balance left, µUSD, or null when the account has no limit. */
  balance(): number | null;
  /** Sets the balance (null: no limit). Creates are refused 402 while it is ≤ 0. */
  setBalance(microUsd: number | null): void;
  /** Adds credit (a top-up); answers the new balance. */
  topUp(microUsd: number): number;
  stats(): SimStats;
  /** Arrival times (epoch ms) of every create and get request, answered or not, oldest first. */
  requestTimes(): number[];
  config(): SimRuntimeConfig;
  /**
   * A Runflow outage: `unavailable` (every /v1 request answers 503), `refused` (the port stops
   * accepting connections), `off` (back to normal, same port). Resolves once the port is closed or
   * listening again.
   */
  setOutage(mode: OutageMode): Promise<void>;
  /**
   * Resolves when every run with a callback_url is terminal and no callback is waiting, in flight
   * or due for a retry. Held callbacks do not count (they move only when released).
   */
  whenCallbacksSettled(): Promise<void>;
}

/** Starts a Runflow simulator on a real HTTP server. */
export async function startSim(options: SimOptions = {}): Promise<Sim> {
  const config = resolveOptions(options);
  const counters = emptyCounters();
  const store = new RunStore();
  const billing = new BillingLedger(config.balanceMicroUsd);
  const callbacks = new CallbackDispatcher(config, counters);
  let baseUrl = '';
  const publicUrl = () => config.publicUrl ?? baseUrl;
  const gate = new ConcurrencyGate(config);
  const lifecycle = new RunLifecycle({ config, store, billing, counters, callbacks, gate, publicUrl });
  const ctx: SimContext = {
    config,
    store,
    billing,
    counters,
    requestLog: new RequestLog(),
    callbacks,
    lifecycle,
    gate,
    rateLimiter: config.rateLimitPerSecond === undefined ? null : new TokenBucket(config.rateLimitPerSecond),
    publicUrl,
  };

  let closing: Promise<void> | undefined;
  let outage: OutageMode = 'off';
  let port = 0;
  const sim: Sim = {
    get url() {
      return baseUrl;
    },
    apiKey: config.apiKeys[0],
    close() {
      closing ??= closeAll();
      return closing;
    },
    setFaults(faults) {
      config.faults = mergeFaults(config.faults, faults);
    },
    clearFaults() {
      config.faults = { ...noFaults(), callbackDelayMs: config.faults.callbackDelayMs };
    },
    setLatency(latencyMs) {
      config.latencyMs = checkLatency(latencyMs);
    },
    setSigningSecret(secret) {
      config.signingSecret = checkSigningSecret(secret);
    },
    setIdempotency(mode) {
      config.idempotency = checkIdempotency(mode);
    },
    setRateLimit(perSecond) {
      config.rateLimitPerSecond = checkRateLimit(perSecond);
      ctx.rateLimiter = config.rateLimitPerSecond === undefined ? null : new TokenBucket(config.rateLimitPerSecond);
    },
    setPricing(pricing) {
      config.pricing = mergePricing(config.pricing, pricing);
    },
    setConcurrencyCaps(caps) {
      config.concurrencyCaps = checkConcurrencyCaps(caps);
      lifecycle.capsChanged();
    },
    holdCallbacks(on) {
      callbacks.setHolding(on);
    },
    releaseCallbacks(runId) {
      return callbacks.release(runId);
    },
    runs() {
      return Array.from(store.all(), toSimRun);
    },
    getRun(id) {
      const run = store.get(id);
      return run ? toSimRun(run) : undefined;
    },
    cancelRun(id) {
      const run = store.get(id);
      if (!run) return undefined;
      lifecycle.cancel(run);
      return toSimRun(run);
    },
    billing() {
      return billing.snapshot();
    },
    balance() {
      return billing.balanceMicroUsd;
    },
    setBalance(microUsd) {
      billing.setBalance(checkBalance(microUsd));
    },
    topUp(microUsd) {
      if (!Number.isSafeInteger(microUsd) || microUsd <= 0) {
        throw new RangeError(`a top-up must be a positive integer number of µUSD, got ${JSON.stringify(microUsd)}`);
      }
      return billing.topUp(microUsd);
    },
    stats() {
      return snapshotStats(counters, store.active.size);
    },
    requestTimes() {
      return ctx.requestLog.snapshot();
    },
    config() {
      return {
        faults: { ...config.faults },
        latencyMs: { ...config.latencyMs },
        signing: config.signingSecret !== null,
        idempotency: config.idempotency,
        rateLimitPerSecond: config.rateLimitPerSecond ?? null,
        holdingCallbacks: callbacks.isHolding,
        outage,
        pricing: structuredClone(config.pricing),
        concurrencyCaps: config.concurrencyCaps
          ? { models: { ...config.concurrencyCaps.models }, mode: config.concurrencyCaps.mode }
          : null,
      };
    },
    async setOutage(mode) {
      outage = checkOutageMode(mode);
      if (closing) return;
      await setListening(server, outage !== 'refused', port, config.host);
    },
    whenCallbacksSettled() {
      return callbacks.whenSettled();
    },
  };

  const server = http.createServer({ keepAliveTimeout: 5000 }, (request, response) => {
    const pathname = (request.url ?? '/').split('?')[0];
    const handled = route(pathname, request, response);
    handled.catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'INTERNAL_ERROR', (error as Error).message);
      else response.destroy();
    });
  });

  async function route(pathname: string, request: http.IncomingMessage, response: http.ServerResponse) {
    if (pathname === '/v1' || pathname.startsWith('/v1/')) {
      response.once('finish', () => countResponse(counters, response.statusCode));
      if (outage !== 'off') {
        recordMetered(ctx, request.method ?? 'GET', pathname, true);
        return sendOutage(response);
      }
      return handleV1(ctx, request, response, pathname);
    }
    if (pathname.startsWith('/_sim/')) return handleSimControl(sim, request, response, pathname);
    if (pathname.startsWith('/outputs/')) return handleOutput(store, request, response, pathname);
    sendError(response, 404, 'NOT_FOUND', `No route for ${request.method} ${pathname}`);
  }

  async function closeAll(): Promise<void> {
    lifecycle.close();
    callbacks.close();
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  baseUrl = `http://${urlHost(config.host)}:${port}`;
  return sim;
}

/** The host to put in URLs: a wildcard bind address is reached through loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
