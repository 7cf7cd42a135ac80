import {
  type EditJobData,
  EditRequest,
  type EditRequestInput,
  type EditResult,
  EditValidationError,
  type FieldIssue,
  parseEditRequest,
  RunflowQueueError,
  toFieldIssues,
} from '@runflow-queue/shared';
import {
  bullPrefix,
  createRedis,
  DEFAULT_PREFIX,
  duplicateForBlocking,
  QUEUE_NAME_PATTERN,
  type RedisClient,
} from '@runflow-queue/store';
import { type JobsOptions, Queue, QueueEvents } from 'bullmq';
import { type EditStatus, toEditStatus } from './edit-status.ts';
import { jobIdForKey, requestHash } from './job-ids.ts';
import { waitForJob } from './wait-for-result.ts';

export interface ProducerOptions {
  /** A Redis URL, or a client you own (the producer then does not close it). */
  redis: string | RedisClient;
  prefix?: string;
  /**
   * How long finished jobs are kept — and so how long an idempotency key keeps answering with the
   * same job (default 24 h). After that the same key makes a new job.
   */
  idempotencyWindowMs?: number;
  /** Failed jobs are kept longer, for inspection (default 7 days). */
  keepFailedMs?: number;
  /** Attempts for unexpected errors (Runflow's retryable errors do not use them). Default 3. */
  attempts?: number;
}

export interface EnqueueOptions {
  /** Higher runs first: 1 (highest) .. 2,097,152, BullMQ's priority; unset = FIFO. */
  priority?: number;
  delayMs?: number;
}

export interface EditHandle {
  id: string;
  queue: string;
  /** True when an idempotency key matched an existing job (nothing new was enqueued). */
  deduplicated: boolean;
}

/** Thrown by enqueueEdits when any item is invalid; nothing was enqueued. */
export class BulkValidationError extends RunflowQueueError {
  readonly items: { index: number; issues: FieldIssue[] }[];
  constructor(items: { index: number; issues: FieldIssue[] }[]) {
    const lines = items.flatMap(({ index, issues }) => issues.map((i) => `  [${index}] ${i.path}: ${i.message}`));
    super('INVALID_INPUT', `${items.length} invalid edit request(s); nothing enqueued:\n${lines.join('\n')}`, {
      details: items,
    });
    this.name = 'BulkValidationError';
    this.items = items;
  }
}

/** What other services import to enqueue edit jobs and get their results back. */
export class EditProducer {
  readonly #redis: RedisClient;
  readonly #ownsRedis: boolean;
  readonly #prefix: string;
  readonly #jobOptions: JobsOptions;
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
    this.#jobOptions = {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
      removeOnComplete: { age: Math.ceil((options.idempotencyWindowMs ?? 24 * 3600_000) / 1000) },
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
      queue = new Queue<EditJobData, EditResult>(name, {
        connection: this.#redis,
        prefix: bullPrefix(this.#prefix, name),
      });
      queue.on('error', () => {});
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Validates and enqueues one edit. Throws EditValidationError (nothing enqueued) on bad input. */
  async enqueueEdit(queueName: string, request: EditRequestInput, options: EnqueueOptions = {}): Promise<EditHandle> {
    const parsed = parseEditRequest(request);
    const queue = this.queue(queueName);
    const { data, jobId } = this.#toJob(queueName, parsed);
    const job = await queue.add('edit', data, this.#addOptions(jobId, options));
    if (!parsed.idempotencyKey) return { id: job.id as string, queue: queueName, deduplicated: false };
    return this.#checkReplay(queueName, jobId as string, data);
  }

  /** Validates every item first; enqueues all of them atomically or none (errors reported by index). */
  async enqueueEdits(
    queueName: string,
    requests: readonly EditRequestInput[],
    options: EnqueueOptions = {},
  ): Promise<EditHandle[]> {
    const invalid: { index: number; issues: FieldIssue[] }[] = [];
    const parsed: EditRequest[] = [];
    requests.forEach((request, index) => {
      try {
        parsed.push(parseEditRequest(request));
      } catch (error) {
        if (!(error instanceof EditValidationError)) throw error;
        invalid.push({ index, issues: error.issues });
      }
    });
    if (invalid.length > 0) throw new BulkValidationError(invalid);
    const queue = this.queue(queueName);
    const entries = parsed.map((request) => {
      const { data, jobId } = this.#toJob(queueName, request);
      return { name: 'edit', data, opts: this.#addOptions(jobId, options) };
    });
    const jobs = await queue.addBulk(entries);
    return Promise.all(
      jobs.map((job, index) =>
        parsed[index].idempotencyKey
          ? this.#checkReplay(queueName, job.id as string, entries[index].data)
          : { id: job.id as string, queue: queueName, deduplicated: false },
      ),
    );
  }

  /** Resolves with the result, or rejects with EditFailedError (the job's code) or WAIT_TIMEOUT. */
  async waitForResult(queueName: string, jobId: string, options: { timeoutMs?: number } = {}): Promise<EditResult> {
    const queue = this.queue(queueName);
    const job = await queue.getJob(jobId);
    if (!job) throw new RunflowQueueError('JOB_NOT_FOUND', `no job ${jobId} in queue ${queueName}`);
    return waitForJob(queue, job, this.#queueEvents(queueName), options.timeoutMs ?? 10 * 60_000);
  }

  async getEdit(queueName: string, jobId: string): Promise<EditStatus | undefined> {
    const job = await this.queue(queueName).getJob(jobId);
    return job ? toEditStatus(queueName, job) : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#events.values()].map((events) => events.close()));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    await this.#eventsRedis?.quit().catch(() => {});
    if (this.#ownsRedis) await this.#redis.quit().catch(() => {});
  }

  #toJob(queue: string, request: EditRequest): { data: EditJobData; jobId: string | undefined } {
    const data: EditJobData = {
      model: request.model,
      input: request.input,
      ...(request.tags ? { tags: request.tags } : {}),
      enqueuedAt: Date.now(),
      step: 'queued',
    };
    if (!request.idempotencyKey) return { data, jobId: undefined };
    return { data: { ...data, requestHash: requestHash(request) }, jobId: jobIdForKey(queue, request.idempotencyKey) };
  }

  #addOptions(jobId: string | undefined, options: EnqueueOptions): JobsOptions {
    return {
      ...this.#jobOptions,
      ...(jobId ? { jobId } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
      ...(options.delayMs ? { delay: options.delayMs } : {}),
    };
  }

  /** Same key: same job. Same key with a different request: an error, not a silent replay. */
  async #checkReplay(queueName: string, jobId: string, data: EditJobData): Promise<EditHandle> {
    const stored = await this.queue(queueName).getJob(jobId);
    if (stored && stored.data.requestHash !== data.requestHash) {
      throw new RunflowQueueError(
        'IDEMPOTENCY_KEY_REUSED',
        `idempotency key already used in queue ${queueName} for a different request (job ${jobId}); use a new key`,
      );
    }
    const deduplicated = stored !== undefined && stored.data.enqueuedAt !== data.enqueuedAt;
    return { id: jobId, queue: queueName, deduplicated };
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

/** Validates an edit request without enqueueing it; returns the field issues (empty when valid). */
export function validateEditRequest(request: unknown): FieldIssue[] {
  const result = EditRequest.safeParse(request);
  return result.success ? [] : toFieldIssues(result.error, request);
}

export function createProducer(options: ProducerOptions): EditProducer {
  return new EditProducer(options);
}
