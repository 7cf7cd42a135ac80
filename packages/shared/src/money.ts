// Money is integer micro-USD (1 USD = 1_000_000 µUSD) everywhere; floats never hold money.

export const MICRO_PER_USD = 1_000_000;

const USD_PATTERN = /^(-)?(\d+)(?:\.(\d{1,6})\d*)?$/;

/**
 * Parses a decimal USD string such as Runflow's run `cost` ("0.15", "0.550000") into integer µUSD
 * without going through a float. Digits past the sixth decimal are truncated. Returns undefined when
 * the value is not a plain decimal.
 */
export function parseUsdToMicro(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = typeof value === 'number' ? value.toFixed(6) : value.trim();
  const match = USD_PATTERN.exec(text);
  if (!match) return undefined;
  const [, minus, whole, fraction = ''] = match;
  const micro = Number(whole) * MICRO_PER_USD + Number(fraction.padEnd(6, '0'));
  return minus ? -micro : micro;
}

/** Formats µUSD as a dollar string with 6 decimals, e.g. 150000 → "$0.150000". */
export function formatMicroUsd(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const abs = Math.abs(micro);
  const whole = Math.floor(abs / MICRO_PER_USD);
  const fraction = String(abs % MICRO_PER_USD).padStart(6, '0');
  return `${sign}$${whole}.${fraction}`;
}

/** The decimal USD string Runflow puts in `cost`, e.g. 150000 → "0.150000". */
export function microToUsdString(micro: number): string {
  return formatMicroUsd(micro).replace('$', '');
}
