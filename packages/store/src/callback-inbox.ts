import { CallbackPayload } from '@runflow-queue/shared';
import { queueKeys } from './keys.ts';
import { LuaScript, type RedisClient } from './lua-script.ts';
import { RETENTION_SECONDS, retentionSeconds } from './retention.ts';

const storeCallbackScript = new LuaScript('store-callback-4');

export interface InboxEntry {
  receivedAt: number;
  payload: CallbackPayload;
}

export interface InboxOptions {
  prefix: string;
  /** How long a callback payload and its clientRef → runId are kept (default RETENTION_SECONDS, 24 h). */
  ttlSeconds?: number;
  /** Divides the default retention (benchmarks: RETENTION_DIVISOR). */
  retentionDivisor?: number;
}

/** The result inbox: verified callback payloads keyed by run id, first write wins. */
export class CallbackInbox {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: RedisClient, options: InboxOptions) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#ttlSeconds =
      options.ttlSeconds ?? retentionSeconds(RETENTION_SECONDS.callbackInbox, options.retentionDivisor);
  }

  /** Durably stores the raw body; returns false when this run's payload was already stored. */
  async store(
    queue: string,
    runId: string,
    clientRef: string | undefined,
    rawBody: string,
    receivedAt = Date.now(),
  ): Promise<boolean> {
    return (await this.storeFor(queue, runId, clientRef, rawBody, { jobKey: undefined, receivedAt })).stored;
  }

  /**
   * Stores the raw body (first write wins) and, in the same script, looks at the job the callback
   * names (`jobKey`, its BullMQ hash): `current` when that job is not finished and holds this run or
   * none yet — the usual case, where there is nothing to settle as waste and no need to read the job.
   */
  async storeFor(
    queue: string,
    runId: string,
    clientRef: string | undefined,
    rawBody: string,
    options: { jobKey: string | undefined; receivedAt?: number },
  ): Promise<{ stored: boolean; current: boolean }> {
    const keys = queueKeys(this.#prefix, queue);
    const value = JSON.stringify({ receivedAt: options.receivedAt ?? Date.now(), body: rawBody });
    const [stored, current] = (await storeCallbackScript.run(
      this.#redis,
      // Without a job key, a key of the same slot that is never a hash: the look reads nothing.
      [
        keys.inbox(runId),
        clientRef ? keys.ref(clientRef) : keys.ref('-'),
        keys.callbacks,
        options.jobKey ?? keys.ref('-'),
      ],
      [value, this.#ttlSeconds, runId, clientRef ? '1' : '0'],
    )) as [number, number];
    return { stored: stored === 1, current: current === 1 };
  }

  async read(queue: string, runId: string): Promise<InboxEntry | undefined> {
    const raw = await this.#redis.get(queueKeys(this.#prefix, queue).inbox(runId));
    return raw === null ? undefined : decodeEntry(raw);
  }

  async has(queue: string, runId: string): Promise<boolean> {
    return (await this.#redis.exists(queueKeys(this.#prefix, queue).inbox(runId))) === 1;
  }

  /** The run a callback reported for this clientRef, if one arrived (adoption of ambiguous submits). */
  async runForClientRef(queue: string, clientRef: string): Promise<string | undefined> {
    return (await this.#redis.get(queueKeys(this.#prefix, queue).ref(clientRef))) ?? undefined;
  }

  async countUnmatched(queue: string): Promise<void> {
    await this.#redis.hincrby(queueKeys(this.#prefix, queue).callbacks, 'unmatched', 1);
  }

  async counters(queue: string): Promise<{ received: number; duplicate: number; unmatched: number }> {
    const raw = await this.#redis.hgetall(queueKeys(this.#prefix, queue).callbacks);
    return {
      received: Number(raw.received ?? 0),
      duplicate: Number(raw.duplicate ?? 0),
      unmatched: Number(raw.unmatched ?? 0),
    };
  }
}

function decodeEntry(raw: string): InboxEntry {
  const { receivedAt, body } = JSON.parse(raw) as { receivedAt: number; body: string };
  return { receivedAt, payload: CallbackPayload.parse(JSON.parse(body)) };
}
