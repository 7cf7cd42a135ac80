import { spendKeys } from './keys.ts';
import type { RedisClient } from './lua-script.ts';

// Runflow's run records name their model by `model_id`, a uuid, not the slug we call it by
// (runflow-api.md §3.1). The workers learn the mapping from every create's answer — a handful of
// entries in one hash, no bytes per run — so the spend reconciler can name the model of a billed run
// whose job Redis lost.

export class ModelIds {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #known = new Set<string>();

  constructor(redis: RedisClient, options: { prefix: string }) {
    this.#redis = redis;
    this.#key = spendKeys(options.prefix).modelIds;
  }

  /** Records `modelId → slug` once per process (HSETNX: the first answer stands). */
  async learn(modelId: unknown, slug: string): Promise<void> {
    if (typeof modelId !== 'string' || modelId === '' || this.#known.has(modelId)) return;
    await this.#redis.hsetnx(this.#key, modelId, slug);
    this.#known.add(modelId);
  }

  async slugOf(modelId: unknown): Promise<string | undefined> {
    if (typeof modelId !== 'string' || modelId === '') return undefined;
    return (await this.#redis.hget(this.#key, modelId)) ?? undefined;
  }
}
