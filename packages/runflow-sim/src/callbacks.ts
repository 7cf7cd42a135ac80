import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rollFault } from './faults.ts';
import { toCallbackBody } from './run-object.ts';
import type { RunRecord } from './run-store.ts';
import { signBody } from './sign-body.ts';
import type { SimConfig } from './sim-options.ts';
import type { SimCounters } from './stats.ts';
import { isoTimestamp, nowMs } from './timestamps.ts';

// Callback delivery: one POST per terminal run to its callback_url, signed, retried on non-2xx,
// timeout or connection error. The body is serialized once and those exact bytes are signed and
// sent on every attempt; the signer is read at send time, so a secret rotated mid-run signs the
// later attempts. Faults (drop, delay, duplicate, out-of-order) are rolled when the run turns
// terminal.

/** How much later the held-back first copy of an out-of-order pair is sent, in ms. */
const OUT_OF_ORDER_LAG_MS = { min: 50, max: 250 };
/** How much later a duplicate copy follows the original, in ms. */
const DUPLICATE_LAG_MS = { min: 0, max: 200 };
/** Enough sockets for thousands of runs finishing together without exhausting file descriptors. */
const MAX_SOCKETS_PER_HOST = 256;

type DeliveryState = 'waiting' | 'held' | 'sending' | 'delivered' | 'failed' | 'cancelled';

interface Delivery {
  run: RunRecord;
  copy: number;
  url: URL;
  body: Buffer;
  requestId: string;
  attemptsMade: number;
  state: DeliveryState;
  /** Released by hand: its retries are not held again. */
  released: boolean;
  timer: NodeJS.Timeout | null;
  request: http.ClientRequest | null;
  onDone: (() => void)[];
}

export class CallbackDispatcher {
  private readonly config: SimConfig;
  private readonly counters: SimCounters;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });
  /** Deliveries waiting for their timer or in flight (held ones are not: they wait for a release). */
  private readonly active = new Set<Delivery>();
  private readonly held: Delivery[] = [];
  /** Runs with a callback_url that are not terminal yet: their callback is still to come. */
  private runsPending = 0;
  private holding = false;
  private closed = false;
  private settledWaiters: (() => void)[] = [];

  constructor(config: SimConfig, counters: SimCounters) {
    this.config = config;
    this.counters = counters;
  }

  runCreated(run: RunRecord): void {
    if (run.callbackUrl) this.runsPending += 1;
  }

  runTerminal(run: RunRecord): void {
    // After close() nothing is pending any more (a run cancelled by hand then must not go negative).
    if (!run.callbackUrl || this.closed) return;
    this.runsPending -= 1;
    this.scheduleCopies(run, run.callbackUrl);
    this.checkSettled();
  }

  setHolding(on: boolean): void {
    this.holding = on;
    // Turning hold off sends what piled up rather than leaving it stranded until a release.
    if (!on) void this.release();
  }

  get isHolding(): boolean {
    return this.holding;
  }

  /** Sends held deliveries (of one run, or all) now; resolves when each is delivered or given up. */
  release(runId?: string): Promise<void> {
    const chosen: Delivery[] = [];
    for (let i = this.held.length - 1; i >= 0; i--) {
      const delivery = this.held[i];
      if (runId !== undefined && delivery.run.id !== runId) continue;
      this.held.splice(i, 1);
      chosen.unshift(delivery);
    }
    const done = chosen.map((delivery) => new Promise<void>((resolve) => delivery.onDone.push(resolve)));
    for (const delivery of chosen) {
      delivery.released = true;
      this.active.add(delivery);
      this.send(delivery);
    }
    return Promise.all(done).then(() => undefined);
  }

  heldCount(): number {
    return this.held.length;
  }

  /**
   * Resolves when no delivery is waiting or in flight and no run with a callback_url is still
   * running. Held deliveries do not count: they move only when released.
   */
  whenSettled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const delivery of [...this.active, ...this.held]) {
      if (delivery.timer) clearTimeout(delivery.timer);
      delivery.timer = null;
      delivery.request?.destroy();
      this.finish(delivery, 'cancelled');
    }
    this.held.length = 0;
    this.runsPending = 0;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.checkSettled();
  }

  private scheduleCopies(run: RunRecord, callbackUrl: string): void {
    const { faults } = this.config;
    if (rollFault(faults, 'callbackDrop', this.counters)) {
      this.counters.callbacksDropped += 1;
      return;
    }
    const body = Buffer.from(JSON.stringify(toCallbackBody(run)));
    const url = new URL(callbackUrl);
    const baseDelayMs = rollFault(faults, 'callbackDelay', this.counters) ? faults.callbackDelayMs : 0;

    if (rollFault(faults, 'callbackOutOfOrder', this.counters)) {
      this.counters.callbacksDuplicated += 1;
      this.schedule(this.newDelivery(run, 1, url, body), baseDelayMs + between(OUT_OF_ORDER_LAG_MS));
      this.schedule(this.newDelivery(run, 2, url, body), baseDelayMs);
    } else if (rollFault(faults, 'callbackDuplicate', this.counters)) {
      this.counters.callbacksDuplicated += 1;
      this.schedule(this.newDelivery(run, 1, url, body), baseDelayMs);
      this.schedule(this.newDelivery(run, 2, url, body), baseDelayMs + between(DUPLICATE_LAG_MS));
    } else {
      this.schedule(this.newDelivery(run, 1, url, body), baseDelayMs);
    }
  }

  private newDelivery(run: RunRecord, copy: number, url: URL, body: Buffer): Delivery {
    return {
      run,
      copy,
      url,
      body,
      requestId: randomUUID(),
      attemptsMade: 0,
      state: 'waiting',
      released: false,
      timer: null,
      request: null,
      onDone: [],
    };
  }

  private schedule(delivery: Delivery, delayMs: number): void {
    delivery.state = 'waiting';
    this.active.add(delivery);
    delivery.timer = setTimeout(() => this.due(delivery), delayMs);
  }

  private due(delivery: Delivery): void {
    delivery.timer = null;
    if (this.holding && !delivery.released) {
      delivery.state = 'held';
      this.active.delete(delivery);
      this.held.push(delivery);
      this.checkSettled();
      return;
    }
    this.send(delivery);
  }

  private send(delivery: Delivery): void {
    if (this.closed) return;
    delivery.state = 'sending';
    delivery.attemptsMade += 1;
    this.counters.callbackAttempts += 1;
    const attempt = delivery.attemptsMade;
    const secret = this.config.signingSecret;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': delivery.body.length,
      'runflow-request-id': delivery.requestId,
      'user-agent': 'runflow-sim',
    };
    if (secret !== null) headers['runflow-signature'] = signBody(secret, delivery.body);

    const startedAtMs = nowMs();
    const isHttps = delivery.url.protocol === 'https:';
    const request = (isHttps ? https : http).request(delivery.url, {
      method: 'POST',
      headers,
      agent: isHttps ? this.httpsAgent : this.httpAgent,
    });
    delivery.request = request;

    let timeout: NodeJS.Timeout | null = null;
    let finished = false;
    const done = (statusCode: number | null, error: string | null): void => {
      if (finished) return;
      finished = true;
      if (timeout) clearTimeout(timeout);
      delivery.request = null;
      if (this.closed) return;
      delivery.run.deliveries.push({
        copy: delivery.copy,
        attempt,
        requestId: delivery.requestId,
        startedAt: isoTimestamp(startedAtMs),
        durationMs: Math.round((nowMs() - startedAtMs) * 10) / 10,
        statusCode,
        error,
        signed: secret !== null,
      });
      this.afterAttempt(delivery, statusCode !== null && statusCode >= 200 && statusCode < 300);
    };

    // The timeout covers the receiver (socket assigned → response read), not time queued in the agent.
    request.on('socket', () => {
      timeout ??= setTimeout(() => {
        request.destroy(new Error(`timed out after ${this.config.callbackRetry.timeoutMs} ms`));
      }, this.config.callbackRetry.timeoutMs);
    });
    request.on('response', (response) => {
      response.on('error', (error) => done(null, error.message));
      response.on('end', () => done(response.statusCode ?? null, null));
      // A response cut off mid-body (timeout, reset) ends with 'close' and no 'end'.
      response.on('close', () => done(null, 'response closed before its end'));
      response.resume(); // drain, so the keep-alive socket can be reused
    });
    request.on('error', (error) => done(null, describeError(error)));
    request.end(delivery.body);
  }

  private afterAttempt(delivery: Delivery, ok: boolean): void {
    if (ok) {
      this.counters.callbacksDelivered += 1;
      this.finish(delivery, 'delivered');
      return;
    }
    const { attempts, delaysMs } = this.config.callbackRetry;
    if (delivery.attemptsMade >= attempts) {
      this.counters.callbacksFailed += 1;
      this.finish(delivery, 'failed');
      return;
    }
    const delayMs = delaysMs[delivery.attemptsMade - 1] ?? delaysMs[delaysMs.length - 1] ?? 0;
    this.schedule(delivery, delayMs);
  }

  private finish(delivery: Delivery, state: DeliveryState): void {
    delivery.state = state;
    this.active.delete(delivery);
    const waiters = delivery.onDone;
    delivery.onDone = [];
    for (const resolve of waiters) resolve();
    this.checkSettled();
  }

  private isSettled(): boolean {
    return this.active.size === 0 && this.runsPending === 0;
  }

  private checkSettled(): void {
    if (this.settledWaiters.length === 0 || !this.isSettled()) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function between(range: { min: number; max: number }): number {
  return range.min + Math.random() * (range.max - range.min);
}

function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
