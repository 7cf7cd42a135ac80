import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainObject, readRequestJson, safeDecode, sendError, sendJson } from './http-io.ts';
import { checkOutageMode, type OutageMode } from './outage.ts';
import {
  checkConcurrencyCaps,
  checkIdempotency,
  checkLatency,
  checkRateLimit,
  checkSigningSecret,
  type IdempotencyMode,
  type LatencyRangeMs,
  mergeFaults,
  type SimFaults,
} from './sim-options.ts';
import { mergePricing, type SimPricing } from './sim-pricing.ts';
import type { Sim } from './start-sim.ts';

// /_sim/*: the simulator's control surface for tests, the demo and chaos runs. Unauthenticated on
// purpose (it is never exposed where a real key would be), and not counted in stats.

const CONFIG_KEYS = [
  'faults',
  'latencyMs',
  'signingSecret',
  'idempotency',
  'rateLimitPerSecond',
  'holdCallbacks',
  'pricing',
  'concurrencyCaps',
];

export async function handleSimControl(
  sim: Sim,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): Promise<void> {
  const method = request.method ?? 'GET';
  if (method === 'GET' && pathname === '/_sim/billing') return sendJson(response, 200, sim.billing());
  if (method === 'GET' && pathname === '/_sim/stats') return sendJson(response, 200, sim.stats());
  if (method === 'GET' && pathname === '/_sim/config') return sendJson(response, 200, sim.config());
  if (method === 'GET' && pathname.startsWith('/_sim/runs/')) {
    const run = sim.getRun(safeDecode(pathname.slice('/_sim/runs/'.length)));
    return run ? sendJson(response, 200, run) : sendError(response, 404, 'RUN_NOT_FOUND', 'No such run');
  }
  if (method === 'POST' && pathname === '/_sim/config') return applyConfig(sim, request, response);
  if (method === 'GET' && pathname === '/_sim/balance') return sendJson(response, 200, balanceBody(sim));
  if (method === 'POST' && pathname === '/_sim/balance') return applyBalance(sim, request, response);
  if (method === 'POST' && pathname === '/_sim/outage') return applyOutage(sim, request, response);
  if (method === 'POST' && pathname === '/_sim/release-callbacks') {
    const body = await readRequestJson(request, response);
    if (body === undefined) return;
    const runId = isPlainObject(body.value) ? body.value.runId : undefined;
    if (runId !== undefined && typeof runId !== 'string') {
      return sendError(response, 400, 'BAD_REQUEST', 'runId must be a string');
    }
    // Answers once the released callbacks are delivered or given up, like releaseCallbacks().
    await sim.releaseCallbacks(runId);
    return sendJson(response, 200, { ok: true });
  }
  sendError(response, 404, 'NOT_FOUND', `No control route ${method} ${pathname}`);
}

/** `{"mode": "off" | "unavailable" | "refused"}`; answers once the port is closed or listening again. */
async function applyOutage(sim: Sim, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readRequestJson(request, response);
  if (body === undefined) return;
  const mode = isPlainObject(body.value) ? body.value.mode : undefined;
  let checked: OutageMode;
  try {
    checked = checkOutageMode(mode);
  } catch (error) {
    return sendError(response, 400, 'BAD_REQUEST', (error as Error).message);
  }
  // Answer first: in `refused` mode this very connection is closed with the port.
  sendJson(response, 200, { ok: true, outage: checked });
  await new Promise<void>((resolve) => response.once('finish', () => resolve()));
  await sim.setOutage(checked);
}

function balanceBody(sim: Sim): { balanceMicroUsd: number | null } {
  return { balanceMicroUsd: sim.balance() };
}

/**
 * `{"topUpMicroUsd": n}` adds credit; `{"balanceMicroUsd": n | null}` sets it (null: no limit). One of
 * the two; answers the balance after the change.
 */
async function applyBalance(sim: Sim, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readRequestJson(request, response);
  if (body === undefined) return;
  const patch = body.value;
  const keys = isPlainObject(patch) ? Object.keys(patch) : [];
  if (!isPlainObject(patch) || keys.length !== 1 || !['topUpMicroUsd', 'balanceMicroUsd'].includes(keys[0])) {
    return sendError(response, 400, 'BAD_REQUEST', 'Send {"topUpMicroUsd": n} or {"balanceMicroUsd": n | null}');
  }
  try {
    if (keys[0] === 'topUpMicroUsd') sim.topUp(patch.topUpMicroUsd as number);
    else sim.setBalance(patch.balanceMicroUsd as number | null);
  } catch (error) {
    return sendError(response, 400, 'BAD_REQUEST', (error as Error).message);
  }
  sendJson(response, 200, balanceBody(sim));
}

/** All-or-nothing: every field is validated before any is applied. */
async function applyConfig(sim: Sim, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readRequestJson(request, response);
  if (body === undefined) return;
  const patch = body.value;
  if (!isPlainObject(patch)) return sendError(response, 400, 'BAD_REQUEST', 'The body must be a JSON object');
  const unknown = Object.keys(patch).filter((key) => !CONFIG_KEYS.includes(key));
  if (unknown.length > 0) {
    return sendError(
      response,
      400,
      'BAD_REQUEST',
      `Unknown config keys: ${unknown.join(', ')}; known: ${CONFIG_KEYS.join(', ')}`,
    );
  }

  const changes: (() => void)[] = [];
  try {
    if (patch.faults !== undefined) {
      // null clears every fault; an object merges into the current ones.
      if (patch.faults === null) changes.push(() => sim.clearFaults());
      else {
        const faults = patch.faults as Partial<SimFaults>;
        mergeFaults(sim.config().faults, faults);
        changes.push(() => sim.setFaults(faults));
      }
    }
    if (patch.latencyMs !== undefined) {
      const latency = checkLatency(patch.latencyMs as LatencyRangeMs);
      changes.push(() => sim.setLatency(latency));
    }
    if (patch.signingSecret !== undefined) {
      const secret = checkSigningSecret(patch.signingSecret);
      changes.push(() => sim.setSigningSecret(secret));
    }
    if (patch.idempotency !== undefined) {
      const mode: IdempotencyMode = checkIdempotency(patch.idempotency);
      changes.push(() => sim.setIdempotency(mode));
    }
    if (patch.rateLimitPerSecond !== undefined) {
      const perSecond = checkRateLimit(patch.rateLimitPerSecond);
      changes.push(() => sim.setRateLimit(perSecond));
    }
    if (patch.pricing !== undefined) {
      const pricing = patch.pricing as Partial<SimPricing>;
      mergePricing(sim.config().pricing, pricing);
      changes.push(() => sim.setPricing(pricing));
    }
    if (patch.holdCallbacks !== undefined) {
      if (typeof patch.holdCallbacks !== 'boolean') throw new RangeError('holdCallbacks must be a boolean');
      const on = patch.holdCallbacks;
      changes.push(() => sim.holdCallbacks(on));
    }
    if (patch.concurrencyCaps !== undefined) {
      // null removes every cap; an object replaces them ({models, mode?}).
      const caps = checkConcurrencyCaps(patch.concurrencyCaps);
      changes.push(() => sim.setConcurrencyCaps(caps));
    }
  } catch (error) {
    return sendError(response, 400, 'BAD_REQUEST', (error as Error).message);
  }
  for (const change of changes) change();
  sendJson(response, 200, { ok: true, config: sim.config() });
}
