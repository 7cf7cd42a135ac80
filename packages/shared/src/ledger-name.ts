import { z } from 'zod';

// A cost center or a caller name becomes part of a spend-ledger field (`day|model|costCenter|caller`)
// and a Prometheus label value. Letters, digits, `.`, `_` and `-` only, starting with a letter or a
// digit: no `|` to forge another row with, no `-` alone (the ledger's "none"), no markup, at most 64.

export const LEDGER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const LedgerName = z
  .string()
  .regex(
    LEDGER_NAME_PATTERN,
    '1 to 64 letters, digits, ".", "_" or "-", starting with a letter or a digit (it names a spend-ledger row)',
  );
export type LedgerName = z.infer<typeof LedgerName>;
