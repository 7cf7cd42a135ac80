/** Column alignment: numbers read best right-aligned. */
export type Align = 'left' | 'right';

/** A plain-text table for terminals: header, a rule, rows; columns padded to their widest cell. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  align?: readonly Align[],
): string {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const alignments =
    align ?? headers.map((_, column) => (rows.every((row) => typeof row[column] === 'number') ? 'right' : 'left'));
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        alignments[column] === 'right' ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
