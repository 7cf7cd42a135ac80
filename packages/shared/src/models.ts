import { z } from 'zod';
import { NanoBanana2EditInput, NanoBananaProEditInput } from './edit-input.ts';

/** A per-image surcharge that applies when the input asks for it. */
export interface Surcharge {
  name: string;
  perImageMicroUsd: number;
  appliesTo: (input: Record<string, unknown>) => boolean;
  /** Set when Runflow does not document this surcharge for the model: why the amount is an estimate. */
  unconfirmed?: string;
}

/** A price that holds from `effectiveFrom` (UTC date) until a later entry replaces it. */
export interface PricePoint {
  effectiveFrom: string;
  perImageMicroUsd: number;
  surcharges: readonly Surcharge[];
}

export interface ModelSpec<S extends z.ZodType = z.ZodType> {
  id: string;
  /** Path of the create-run endpoint, relative to the API base URL. */
  endpointPath: string;
  inputSchema: S;
  /** Newest last. */
  prices: readonly PricePoint[];
}

// nano-banana-2's surcharges come from its text-to-image page; the edit page does not list them.
const FROM_TEXT_TO_IMAGE = 'from the text-to-image page; Runflow does not document it for edit';
const webSearch: Surcharge = {
  name: 'enable_web_search',
  perImageMicroUsd: 15_000,
  appliesTo: (input) => input.enable_web_search === true,
  unconfirmed: FROM_TEXT_TO_IMAGE,
};
const thinkingHigh: Surcharge = {
  name: 'thinking_level=high',
  perImageMicroUsd: 2_000,
  appliesTo: (input) => input.thinking_level === 'high',
  unconfirmed: FROM_TEXT_TO_IMAGE,
};

export const MODELS = {
  'google/nano-banana-pro/edit': {
    id: 'google/nano-banana-pro/edit',
    endpointPath: '/v1/models/google/nano-banana-pro/edit/runs',
    inputSchema: NanoBananaProEditInput,
    prices: [{ effectiveFrom: '2026-04-06', perImageMicroUsd: 150_000, surcharges: [] }],
  },
  'google/nano-banana-2/edit': {
    id: 'google/nano-banana-2/edit',
    endpointPath: '/v1/models/google/nano-banana-2/edit/runs',
    inputSchema: NanoBanana2EditInput,
    prices: [{ effectiveFrom: '2026-01-01', perImageMicroUsd: 80_000, surcharges: [webSearch, thinkingHigh] }],
  },
} as const satisfies Record<string, ModelSpec>;

export type ModelId = keyof typeof MODELS;
export const MODEL_IDS = Object.keys(MODELS) as ModelId[];

/** A known model id as a zod field, typed as ModelId (not string). */
export const ModelIdField = z.enum(MODEL_IDS as [ModelId, ...ModelId[]]);

export function isModelId(value: unknown): value is ModelId {
  return typeof value === 'string' && Object.hasOwn(MODELS, value);
}

export function getModel(id: ModelId): ModelSpec {
  return MODELS[id];
}
