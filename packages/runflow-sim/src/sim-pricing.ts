import { type ModelId, priceOn } from '@runflow-queue/shared';

// How the simulator bills, when it must not bill from our own price table: a real Runflow bills its
// own way (runflow-api.md §7, §9.2: surcharges for edit are undocumented, resolution "price varies by
// tier" with no published tiers), so tests must prove the ledger follows Runflow's record, not our
// table. Default: exactly our table (surcharges on, no tier prices, cost on every run).

export interface SimPricing {
  /** `table`: the price table's surcharges apply; `none`: Runflow bills no surcharge at all. */
  surcharges: 'table' | 'none';
  /** Per model, per `resolution` tier (absent = `1K`): the per-image price billed, µUSD, instead of the table's base. */
  tierPriceMicroUsd: Partial<Record<string, Partial<Record<string, number>>>>;
  /** Models whose run records carry no `cost` (null) although they bill: the price table has to stand. */
  noCostModels: string[];
}

export function tablePricing(): SimPricing {
  return { surcharges: 'table', tierPriceMicroUsd: {}, noCostModels: [] };
}

/** Validates a partial pricing onto `current`; unknown keys and bad values throw, naming the field. */
export function mergePricing(current: SimPricing, partial: unknown, label = 'pricing'): SimPricing {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw new RangeError(`${label} must be an object, got ${JSON.stringify(partial)}`);
  }
  const next: SimPricing = { ...current };
  for (const [key, value] of Object.entries(partial)) {
    if (key === 'surcharges') {
      if (value !== 'table' && value !== 'none') {
        throw new RangeError(`${label}.surcharges must be "table" or "none", got ${JSON.stringify(value)}`);
      }
      next.surcharges = value;
    } else if (key === 'tierPriceMicroUsd') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new RangeError(`${label}.tierPriceMicroUsd must be {model: {tier: µUSD}}, got ${JSON.stringify(value)}`);
      }
      for (const [model, tiers] of Object.entries(value)) {
        if (typeof tiers !== 'object' || tiers === null) {
          throw new RangeError(
            `${label}.tierPriceMicroUsd.${model} must be {tier: µUSD}, got ${JSON.stringify(tiers)}`,
          );
        }
        for (const [tier, price] of Object.entries(tiers)) {
          if (!Number.isSafeInteger(price) || (price as number) < 0) {
            throw new RangeError(
              `${label}.tierPriceMicroUsd.${model}.${tier} must be an integer ≥ 0 (µUSD per image), got ${JSON.stringify(price)}`,
            );
          }
        }
      }
      next.tierPriceMicroUsd = value as SimPricing['tierPriceMicroUsd'];
    } else if (key === 'noCostModels') {
      if (!Array.isArray(value) || value.some((model) => typeof model !== 'string')) {
        throw new RangeError(`${label}.noCostModels must be a list of model ids, got ${JSON.stringify(value)}`);
      }
      next.noCostModels = [...value];
    } else {
      throw new RangeError(
        `${label}.${key} is not a pricing field; known: surcharges, tierPriceMicroUsd, noCostModels`,
      );
    }
  }
  return next;
}

export interface SimCharge {
  perImageMicroUsd: number;
  baseMicroUsd: number;
  surcharges: { name: string; perImageMicroUsd: number }[];
  totalMicroUsd: number;
}

/** What the simulated Runflow bills for `images` delivered images of this input on `day`. */
export function simCharge(
  pricing: SimPricing,
  model: ModelId,
  input: Record<string, unknown>,
  images: number,
  day: string,
): SimCharge {
  const price = priceOn(model, day);
  const tier = typeof input.resolution === 'string' ? input.resolution : '1K';
  const base = pricing.tierPriceMicroUsd[model]?.[tier] ?? price.perImageMicroUsd;
  const surcharges =
    pricing.surcharges === 'none'
      ? []
      : price.surcharges
          .filter((surcharge) => surcharge.appliesTo(input))
          .map((surcharge) => ({ name: surcharge.name, perImageMicroUsd: surcharge.perImageMicroUsd }));
  const perImage = base + surcharges.reduce((sum, s) => sum + s.perImageMicroUsd, 0);
  return { perImageMicroUsd: perImage, baseMicroUsd: base, surcharges, totalMicroUsd: perImage * images };
}
