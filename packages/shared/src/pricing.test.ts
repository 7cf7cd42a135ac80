import { describe, expect, it } from 'vitest';
import { estimateCostMicroUsd, formatMicroUsd, parseUsdToMicro, priceDeliveredMicroUsd } from './index.ts';

describe('pricing', () => {
  it('prices nano-banana-pro at $0.15 per requested image', () => {
    expect(estimateCostMicroUsd('google/nano-banana-pro/edit', { num_images: 1 })).toBe(150_000);
    expect(estimateCostMicroUsd('google/nano-banana-pro/edit', { num_images: 4 })).toBe(600_000);
    expect(estimateCostMicroUsd('google/nano-banana-pro/edit', {})).toBe(150_000);
  });

  it('adds nano-banana-2 surcharges per image', () => {
    expect(estimateCostMicroUsd('google/nano-banana-2/edit', {})).toBe(80_000);
    expect(estimateCostMicroUsd('google/nano-banana-2/edit', { enable_web_search: true, num_images: 2 })).toBe(190_000);
    expect(estimateCostMicroUsd('google/nano-banana-2/edit', { thinking_level: 'high' })).toBe(82_000);
    expect(estimateCostMicroUsd('google/nano-banana-2/edit', { thinking_level: 'minimal' })).toBe(80_000);
  });

  it('charges delivered images only', () => {
    expect(priceDeliveredMicroUsd('google/nano-banana-2/edit', { num_images: 4 }, 0)).toBe(0);
    expect(priceDeliveredMicroUsd('google/nano-banana-2/edit', { num_images: 4 }, 3)).toBe(240_000);
  });
});

describe('money', () => {
  it('parses USD strings exactly, never through a float', () => {
    expect(parseUsdToMicro('0.15')).toBe(150_000);
    expect(parseUsdToMicro('0.550000')).toBe(550_000);
    expect(parseUsdToMicro('12')).toBe(12_000_000);
    expect(parseUsdToMicro('0.0000019')).toBe(1);
    expect(parseUsdToMicro('abc')).toBeUndefined();
    expect(parseUsdToMicro(null)).toBeUndefined();
  });

  it('formats µUSD as dollars', () => {
    expect(formatMicroUsd(150_000)).toBe('$0.150000');
    expect(formatMicroUsd(12_345_678)).toBe('$12.345678');
  });
});
