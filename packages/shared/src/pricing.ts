import { getModel, type ModelId, type PricePoint } from './models.ts';

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
