/** Pieces of the PR comment's Markdown that the report and its sections share. */

/** A PR comment has to stay readable (and under GitHub's size limit) whatever the change. */
export const MAX_ROWS = 50;

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The closing row of a table clipped to MAX_ROWS rows. */
export const moreRows = (total: number, cols: number): string[] =>
  total > MAX_ROWS ? [`| … ${total - MAX_ROWS} more |${" |".repeat(cols - 1)}`] : [];

export const usd = (n: number): string =>
  `${n < 0 ? "-" : ""}$${Math.abs(n).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** "+$2.76 (+22.4%)"; the percentage is left out when the base is zero. */
export function delta(before: number, after: number): string {
  const d = after - before;
  const sign = d > 0 ? "+" : d < 0 ? "-" : "±";
  const pct = before !== 0 ? ` (${sign}${Math.abs((d / before) * 100).toFixed(1)}%)` : "";
  return `${sign}${usd(Math.abs(d))}${pct}`;
}
