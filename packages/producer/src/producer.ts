import type { NotifyUrlPolicy, WorkloadsConfig } from '@runflow-queue/shared';
import {
  type EditJobData,
  type EditRequest,
  type EditResult,
  EditValidationError,
  type FieldIssue,
  QUEUE_NAME_PATTERN,
  RunflowQueueError,
} from '@runflow-queue/shared';
import {
  BudgetStore,
  bullPrefix,
  createRedis,
  DEFAULT_PREFIX,
  duplicateForBlocking,
  openQueue,
  type RedisClient,
} from '@runflow-queue/store';
import { ATTR, inSpan, SPAN, SpanKind } from '@runflow-queue/tracing';
import { type JobsOptions, type Queue, QueueEvents } from 'bullmq';
import {
  type CallerEditRequest,
  callerRequestIssues,
  type EnqueueOptions,
  enqueueOptionIssues,
  validateCallerRequest,
  validateCallerRequests,
} from './caller-request.ts';
import { type CancelOptions, type CancelResult, cancelJob } from './cancel-edit.ts';
import { type EditStatus, toEditStatus } from './edit-status.ts';
import { jobIdForKey, requestHash } from './job-ids.ts';
import { visibleTo } from './job-owner.ts';
import { type Quote, quoteRequests } from './quote.ts';
import { withRedis } from './redis-availability.ts';
import { type RetryFailedOptions, type RetryOutcome, retryFailedJobs } from './retry-failed.ts';
import { waitForJob } from './wait-for-result.ts';

/** Priority of new jobs when the caller gives none (BullMQ: 1 is highest, 2,097,152 lowest). */
export const DEFAULT_PRIORITY = 1_000;

/** Default idempotency window: how long a finished job — and so its idempotency key — is kept. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

export interface ProducerOptions {
  /** A Redis URL, or a client you own (the producer then does not close it). */
  redis: string | RedisClient;
  prefix?: string;
  /**
   * How long completed jobs are kept — and so how long an idempotency key keeps answering with the
   * same job (default 24 h). After that the same key makes a new job (and a new run). While a job is
   * waiting or running its key always dedupes; failed jobs are kept `keepFailedMs`.
   */
  idempotencyWindowMs?: number;
  /** Failed jobs are kept longer, for inspection (default 7 days). Their keys dedupe as long. */
  keepFailedMs?: number;
  /** Attempts for unexpected errors (Runflow's retryable errors do not use them). Default 3. */
  attempts?: number;
  /**
   * How long a call waits for Redis before failing REDIS_UNAVAILABLE (default 5 s): long enough to
   * ride through a Redis restart, short enough that a caller never hangs on a Redis that is down.
   */
  redisTimeoutMs?: number;
  /**
   * Which notifyUrl targets are accepted at enqueue (default: public https only). The workers check
   * again at delivery, after DNS resolution, with their own NOTIFY_ALLOW_* settings.
   */
  notifyUrlPolicy?: NotifyUrlPolicy;
  /**
   * The workers' workloads config, for quotes: the queue's budget, rate share, allowed models and
   * in-flight caps. Without it a quote has no budget verdict and assumes the default rate limit.
   */
  workloads?: WorkloadsConfig;
}

export type { EnqueueOptions } from './caller-request.ts';

/**
 * Who is asking, for look-ups: a named caller sees only the jobs it enqueued (others answer as if they
 * did not exist); unset = every job (a trusted process, an admin).
 */
export interface CallerScope {
  caller?: string | undefined;
}

/** One enqueued edit: its id, and how to follow it. Methods are not enumerable (the handle logs as data). */
export interface EditHandle {
  id: string;
  queue: string;
  /** True when an idempotency key matched an existing job (nothing new was enqueued). */
  deduplicated: boolean;
  /** The job's state, step, run, result or failure. Throws JOB_NOT_FOUND once the job is gone. */
  status(): Promise<EditStatus>;
  /** Resolves with the result; rejects with EditFailedError (the job's code) or WAIT_TIMEOUT. */
  result(options?: { timeoutMs?: number }): Promise<EditResult>;
  /** See EditProducer.cancelEdit. */
  cancel(options?: CancelOptions): Promise<CancelResult>;
}

/** What other services import to enqueue edit jobs and get their results back. */
export class EditProducer {
  readonly #redis: RedisClient;
  readonly #ownsRedis: boolean;
  readonly #prefix: string;
  readonly #jobOptions: JobsOptions;
  readonly #policy: NotifyUrlPolicy;
  readonly #redisTimeoutMs: number;
  readonly #workloads: WorkloadsConfig | undefined;
  readonly #queues = new Map<string, Queue<EditJobData, EditResult>>();
  readonly #events = new Map<string, QueueEvents>();
  #eventsRedis: RedisClient | undefined;

  constructor(options: ProducerOptions) {
    this.#ownsRedis = typeof options.redis === 'string';
    // Fail fast while Redis is down: a bounded retry and a command timeout, never an endless wait.
    this.#redis =
      typeof options.redis === 'string'
        ? createRedis(options.redis, { maxRetriesPerRequest: 1, commandTimeout: 5_000, enableOfflineQueue: true })
        : options.redis;
    if (this.#ownsRedis) this.#redis.on('error', () => {});
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#policy = options.notifyUrlPolicy ?? {};
    this.#redisTimeoutMs = options.redisTimeoutMs ?? 5_000;
    this.#workloads = options.workloads;
    this.#jobOptions = {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
      removeOnComplete: { age: Math.ceil((options.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS) / 1000) },
      removeOnFail: { age: Math.ceil((options.keepFailedMs ?? 7 * 24 * 3600_000) / 1000) },
    };
  }

  queue(name: string): Queue<EditJobData, EditResult> {
    if (!QUEUE_NAME_PATTERN.test(name)) {
      throw new RunflowQueueError(
        'UNKNOWN_QUEUE',
        `queue ${JSON.stringify(name)}: use lowercase letters, digits, - and _`,
      );
    }
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = openQueue(this.#redis, this.#prefix, name);
      // Every pending waitForResult adds a 'closing' listener (BullMQ's waitUntilFinished): many at once is normal.
      queue.setMaxListeners(0);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** The field issues of a request and its options under this producer's notifyUrl policy (empty when valid). */
  validate(request: unknown, options: EnqueueOptions = {}): FieldIssue[] {
    return callerRequestIssues(request, options, this.#policy);
  }

  /** Validates and enqueues one edit. Throws EditValidationError (nothing enqueued) on bad input. */
  enqueueEdit(queueName: string, request: CallerEditRequest, options: EnqueueOptions = {}): Promise<EditHandle> {
    return traceEnqueue(queueName, [request], () => this.#enqueueEdit(queueName, request, options));
  }

  async #enqueueEdit(queueName: string, request: CallerEditRequest, options: EnqueueOptions): Promise<EditHandle> {
    const { request: parsed, notifyUrl } = validateCallerRequest(request, options, this.#policy);
    const queue = this.queue(queueName);
    const { data, jobId } = this.#toJob(queueName, parsed, notifyUrl, options.caller);
    return this.#redisCall(`enqueueEdit(${queueName})`, async () => {
      const job = await queue.add('edit', data, this.#addOptions(jobId, options));
      if (!parsed.idempotencyKey) return this.#handle(queueName, job.id as string, false, options.caller);
      return this.#checkReplay(queueName, jobId as string, data, options.caller);
    });
  }

  /** Validates every item first; enqueues all of them atomically or none (errors reported by index). */
  enqueueEdits(
    queueName: string,
    requests: readonly CallerEditRequest[],
    options: EnqueueOptions = {},
  ): Promise<EditHandle[]> {
    return traceEnqueue(queueName, requests, () => this.#enqueueEdits(queueName, requests, options));
  }

  async #enqueueEdits(
    queueName: string,
    requests: readonly CallerEditRequest[],
    options: EnqueueOptions,
  ): Promise<EditHandle[]> {
    const optionIssues = enqueueOptionIssues(options);
    if (optionIssues.length > 0) throw new EditValidationError(optionIssues, 'enqueue options');
    const valid = validateCallerRequests(requests, this.#policy);
    const queue = this.queue(queueName);
    const entries = valid.map(({ request, notifyUrl }) => {
      const { data, jobId } = this.#toJob(queueName, request, notifyUrl, options.caller);
      return { name: 'edit', data, opts: this.#addOptions(jobId, options) };
    });
    return this.#redisCall(`enqueueEdits(${queueName})`, async () => {
      const jobs = await queue.addBulk(entries);
      return Promise.all(
        jobs.map((job, index) =>
          valid[index].request.idempotencyKey
            ? this.#checkReplay(queueName, job.id as string, entries[index].data, options.caller)
            : this.#handle(queueName, job.id as string, false, options.caller),
        ),
      );
    });
  }

  /**
   * What these requests would cost (µUSD, as the ledger books them, with the estimated parts named),
   * whether the queue's budget admits them now and what would remain, and when they would be done.
   * Nothing is enqueued and no Runflow request is made; invalid requests fail as enqueue's do.
   */
  async quote(
    queueName: string,
    requests: CallerEditRequest | readonly CallerEditRequest[],
    options: { workloads?: WorkloadsConfig; now?: number } = {},
  ): Promise<Quote> {
    const valid = Array.isArray(requests)
      ? validateCallerRequests(requests, this.#policy)
      : [validateCallerRequest(requests as CallerEditRequest, {}, this.#policy)];
    const queue = this.queue(queueName);
    return this.#redisCall(`quote(${queueName})`, () =>
      quoteRequests(
        {
          queue,
          queueName,
          otherQueue: (name) => this.queue(name),
          budgets: new BudgetStore(this.#redis, { prefix: this.#prefix }),
          workloads: options.workloads ?? this.#workloads,
          now: options.now ?? Date.now(),
        },
        valid.map((v) => v.request),
      ),
    );
  }

  /** A handle for a job enqueued earlier (by id), e.g. in another process; `caller` scopes its look-ups. */
  handle(queueName: string, jobId: string, scope: CallerScope = {}): EditHandle {
    return this.#handle(queueName, jobId, false, scope.caller);
  }

  /**
   * Resolves with the result, or rejects with EditFailedError (the job's code) or WAIT_TIMEOUT;
   * JOB_NOT_FOUND for no such job, or one another caller enqueued.
   */
  async waitForResult(
    queueName: string,
    jobId: string,
    options: { timeoutMs?: number } & CallerScope = {},
  ): Promise<EditResult> {
    const queue = this.queue(queueName);
    const job = await this.#redisCall(`waitForResult(${queueName})`, () => queue.getJob(jobId));
    if (!job || !visibleTo(job.data, options.caller)) {
      throw new RunflowQueueError('JOB_NOT_FOUND', `no job ${jobId} in queue ${queueName}`);
    }
    return waitForJob(queue, job, this.#queueEvents(queueName), options.timeoutMs ?? 10 * 60_000);
  }

  /** The job's status; undefined for no such job, or one another caller enqueued. */
  async getEdit(queueName: string, jobId: string, scope: CallerScope = {}): Promise<EditStatus | undefined> {
    const queue = this.queue(queueName);
    return this.#redisCall(`getEdit(${queueName})`, async () => {
      // State first, then the job: the job can only be newer than its state, never older.
      const state = await queue.getJobState(jobId);
      if (state === 'unknown') return undefined;
      const job = await queue.getJob(jobId);
      return job && visibleTo(job.data, scope.caller) ? toEditStatus(queueName, job, state) : undefined;
    });
  }

  /**
   * Cancels an edit. Not yet submitted → removed (no run, nothing spent). Already submitted → Runflow
   * has no public cancel, so the job is marked abandoned: its run finishes and is paid for, the spend
   * lands in the ledger, and the job fails JOB_ABANDONED. The result's `outcome` says which happened.
   */
  async cancelEdit(queueName: string, jobId: string, options: CancelOptions & CallerScope = {}): Promise<CancelResult> {
    const queue = this.queue(queueName);
    return this.#redisCall(`cancelEdit(${queueName})`, async (): Promise<CancelResult> => {
      if (options.caller !== undefined) {
        // The owner never changes, so checking it before cancelling leaves no window.
        const job = await queue.getJob(jobId);
        if (!job || !visibleTo(job.data, options.caller)) {
          return {
            id: jobId,
            queue: queueName,
            outcome: 'not_found',
            message: `no job ${jobId} in queue ${queueName}`,
          };
        }
      }
      return cancelJob(this.#redis, queue, queueName, jobId, options);
    });
  }

  /** Retries failed jobs (optionally only one failure code); see retry-failed.ts for what is skipped. */
  async retryFailed(queueName: string, options: RetryFailedOptions = {}): Promise<RetryOutcome[]> {
    const queue = this.queue(queueName);
    return this.#redisCall(`retryFailed(${queueName})`, () => retryFailedJobs(queue, options));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#events.values()].map((events) => events.close()));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    await this.#eventsRedis?.quit().catch(() => {});
    if (this.#ownsRedis) await this.#redis.quit().catch(() => {});
  }

  /** Every call that touches Redis: a bounded wait for the connection; a lost one is REDIS_UNAVAILABLE. */
  #redisCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return withRedis(this.#redis, this.#redisTimeoutMs, operation, call);
  }

  #handle(queueName: string, id: string, deduplicated: boolean, caller: string | undefined): EditHandle {
    const handle = { id, queue: queueName, deduplicated } as EditHandle;
    Object.defineProperties(handle, {
      status: {
        value: async () => {
          const status = await this.getEdit(queueName, id, { caller });
          if (!status) {
            throw new RunflowQueueError(
              'JOB_NOT_FOUND',
              `no job ${id} in queue ${queueName}: removed by cancelEdit, or finished longer ago than its retention window`,
            );
          }
          return status;
        },
      },
      result: {
        value: (options: { timeoutMs?: number } = {}) => this.waitForResult(queueName, id, { ...options, caller }),
      },
      cancel: { value: (options: CancelOptions = {}) => this.cancelEdit(queueName, id, { ...options, caller }) },
    });
    return handle;
  }

  #toJob(
    queue: string,
    request: EditRequest,
    notifyUrl: string | undefined,
    caller: string | undefined,
  ): { data: EditJobData; jobId: string | undefined } {
    // Built from the validated request alone: nothing a caller sends can set step, runId or clientRef.
    const data: EditJobData = {
      model: request.model,
      input: request.input,
      ...(request.tags ? { tags: request.tags } : {}),
      ...(notifyUrl ? { notifyUrl } : {}),
      ...(caller ? { caller } : {}),
      enqueuedAt: Date.now(),
      step: 'queued',
    };
    if (!request.idempotencyKey) return { data, jobId: undefined };
    return {
      data: { ...data, requestHash: requestHash({ ...request, notifyUrl }) },
      jobId: jobIdForKey(queue, request.idempotencyKey, caller),
    };
  }

  #addOptions(jobId: string | undefined, options: EnqueueOptions): JobsOptions {
    return {
      ...this.#jobOptions,
      ...(jobId ? { jobId } : {}),
      // Always a priority (default DEFAULT_PRIORITY): BullMQ serves its plain wait list before
      // prioritized jobs, and the worker moves a job that has a run on Runflow to priority 0, so a
      // woken job (result in) is finalized ahead of a backlog of new submits.
      priority: options.priority ?? DEFAULT_PRIORITY,
      ...(options.delayMs ? { delay: options.delayMs } : {}),
    };
  }

  /** Same key: same job. Same key with a different request: an error, not a silent replay. */
  async #checkReplay(
    queueName: string,
    jobId: string,
    data: EditJobData,
    caller: string | undefined,
  ): Promise<EditHandle> {
    const stored = await this.queue(queueName).getJob(jobId);
    if (stored && stored.data.requestHash !== data.requestHash) {
      throw new RunflowQueueError(
        'IDEMPOTENCY_KEY_REUSED',
        `idempotency key already used in queue ${queueName} for a different request (job ${jobId}); use a new key`,
      );
    }
    const deduplicated = stored !== undefined && stored.data.enqueuedAt !== data.enqueuedAt;
    return this.#handle(queueName, jobId, deduplicated, caller);
  }

  #queueEvents(queueName: string): QueueEvents {
    let events = this.#events.get(queueName);
    if (!events) {
      // QueueEvents blocks on XREAD: it needs its own connection that waits through outages.
      this.#eventsRedis ??= duplicateForBlocking(this.#redis);
      this.#eventsRedis.on('error', () => {});
      events = new QueueEvents(queueName, {
        connection: this.#eventsRedis,
        prefix: bullPrefix(this.#prefix, queueName),
      });
      events.on('error', () => {});
      this.#events.set(queueName, events);
    }
    return events;
  }
}

/**
 * The enqueue span (a producer span: the job's trace starts or continues here, and the context BullMQ
 * stores in each job is this span's child). A refusal is recorded with its code (INVALID_INPUT, …).
 */
function traceEnqueue<T extends EditHandle | EditHandle[]>(
  queue: string,
  requests: readonly CallerEditRequest[],
  enqueue: () => Promise<T>,
): Promise<T> {
  const attributes = () => {
    const models = [...new Set(requests.map((r) => String((r as { model?: unknown })?.model)))];
    return { [ATTR.queue]: queue, [ATTR.model]: models.join(','), 'rfq.count': requests.length };
  };
  return inSpan(SPAN.enqueue, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
    const enqueued = await enqueue();
    const handles = Array.isArray(enqueued) ? enqueued : [enqueued];
    if (handles.length === 1) {
      span.setAttributes({ [ATTR.jobId]: handles[0].id, 'rfq.deduplicated': handles[0].deduplicated });
    }
    return enqueued;
  });
}

/**
 * Validates an edit request without enqueueing it; returns the field issues (empty when valid).
 * Uses the default notifyUrl policy (public https only); `EditProducer.validate` uses the producer's.
 */
export function validateEditRequest(request: unknown): FieldIssue[] {
  return callerRequestIssues(request);
}

export function createProducer(options: ProducerOptions): EditProducer {
  return new EditProducer(options);
}
