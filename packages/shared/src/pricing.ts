import { getModel, type ModelId, type PricePoint } from './models.ts';
import { parseUsdToMicro } from './money.ts';
import { extractOutputs, isSuccessStatus } from './run.ts';

/** The price point in force on `day` (YYYY-MM-DD, UTC). */
export function priceOn(model: ModelId, day: string): PricePoint {
  const prices = getModel(model).prices;
  let current = prices[0];
  for (const price of prices) if (price.effectiveFrom <= day) current = price;
  return current;
}

/** Per-image price for this input, surcharges included, in µUSD. */
export function perImageMicroUsd(model: ModelId, input: Record<string, unknown>, day = utcDay()): number {
  const price = priceOn(model, day);
  let total = price.perImageMicroUsd;
  for (const surcharge of price.surcharges) if (surcharge.appliesTo(input)) total += surcharge.perImageMicroUsd;
  return total;
}

/** The surcharges this input incurs that are estimates, each as "name +µUSD/image: why". */
export function estimatedSurcharges(model: ModelId, input: Record<string, unknown>, day = utcDay()): string[] {
  return priceOn(model, day)
    .surcharges.filter((surcharge) => surcharge.unconfirmed && surcharge.appliesTo(input))
    .map((surcharge) => `${surcharge.name} +${surcharge.perImageMicroUsd} µUSD/image: ${surcharge.unconfirmed}`);
}

/** Cost the input will incur if every requested image is delivered: what a budget reserves. */
export function estimateCostMicroUsd(model: ModelId, input: Record<string, unknown>, day = utcDay()): number {
  const images = typeof input.num_images === 'number' ? input.num_images : 1;
  return perImageMicroUsd(model, input, day) * images;
}

/** Cost of a run from the price table: per delivered image (failed runs deliver none and cost 0). */
export function priceDeliveredMicroUsd(
  model: ModelId,
  input: Record<string, unknown>,
  deliveredImages: number,
  day = utcDay(),
): number {
  return perImageMicroUsd(model, input, day) * deliveredImages;
}

export function utcDay(at: number | Date = Date.now()): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** A run in a terminal state, as a callback or a poll reports it. */
export interface TerminalRunCost {
  status: string;
  output: unknown;
  /** Runflow's own `cost` (USD string) when it gave one. */
  cost?: string | number | null | undefined;
  completedAt?: string | null | undefined;
}

export interface PricedRun {
  /** UTC day the run reached its terminal state: the day it billed. */
  day: string;
  images: number;
  /** What is booked: Runflow's cost when given, else the estimate. */
  costMicroUsd: number;
  /** The price table's amount for the delivered images (surcharges included). */
  estimatedMicroUsd: number;
  pricing: { source: 'provider' | 'price-table'; perImageMicroUsd: number; effectiveFrom: string };
}

/**
 * What a terminal run cost, the way the worker settles it: Runflow's `cost` when given, else the price
 * table × delivered images (failed runs deliver none and cost 0). Used to settle orphan runs as waste.
 */
export function priceTerminalRun(
  model: ModelId,
  input: Record<string, unknown>,
  run: TerminalRunCost,
  now = Date.now(),
): PricedRun {
  const images = isSuccessStatus(run.status) ? extractOutputs(run.output).length : 0;
  const completedAtMs = run.completedAt ? Date.parse(run.completedAt) : Number.NaN;
  const day = utcDay(Number.isFinite(completedAtMs) ? completedAtMs : now);
  const providerCost = parseUsdToMicro(run.cost);
  const perImage = perImageMicroUsd(model, input, day);
  return {
    day,
    images,
    costMicroUsd: providerCost ?? perImage * images,
    estimatedMicroUsd: perImage * images,
    pricing: {
      source: providerCost === undefined ? 'price-table' : 'provider',
      perImageMicroUsd: perImage,
      effectiveFrom: priceOn(model, day).effectiveFrom,
    },
  };
}
