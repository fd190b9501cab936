import { markdownTable } from 'markdown-table';

/** What a report shows in place of a value that was not measured. */
export const MISSING = '—';

/** One table cell: text as is, a number formatted with `fmt`, or null for a missing value. */
export type Cell = string | number | null;

/** Column alignment: left, right, centre, or '' for the Markdown default (left, no colon). */
export type Align = 'l' | 'r' | 'c' | '';

/**
 * Formats a number with exactly `digits` decimals (default 2). null, undefined and NaN render as
 * `MISSING`; ±Infinity as "∞"/"-∞"; a value that rounds to zero never shows as "-0.00".
 */
export function fmt(n: number | null | undefined, digits = 2): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`digits must be an integer within [0, 20], got ${digits}`);
  }
  if (n === null || n === undefined || Number.isNaN(n)) return MISSING;
  if (n === Number.POSITIVE_INFINITY) return '∞';
  if (n === Number.NEGATIVE_INFINITY) return '-∞';
  const s = n.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * The number of decimals a table column of numbers is shown with: 0 when every value is an
 * integer, otherwise enough for the smallest non-zero magnitude to keep three significant digits
 * (12.3 → 1, 1.5 → 2, 0.012 → 4), capped at 6. One count per column keeps decimals aligned.
 */
export function columnDigits(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.every((v) => Number.isInteger(v))) return 0;
  const nonZero = finite.filter((v) => v !== 0).map((v) => Math.abs(v));
  const smallest = Math.min(...nonZero);
  return Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(smallest))));
}

/** Escapes text for one table cell: pipes are escaped and line breaks become spaces. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A GitHub-flavoured Markdown table (via markdown-table). null cells render as `MISSING`; numbers
 * get fixed decimals per column (see `columnDigits`; pre-format with `fmt` to choose them); text is
 * escaped. `align` is one style for every column or one per column; by default, columns whose
 * cells are all numbers or null are right-aligned and the others left-aligned.
 * Every row must have as many cells as there are headers.
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  align?: Align | readonly Align[],
): string {
  if (headers.length === 0) throw new RangeError('a table needs at least one column');
  rows.forEach((row, i) => {
    if (row.length !== headers.length) {
      throw new RangeError(`table row ${i} has ${row.length} cells, expected ${headers.length}`);
    }
  });
  const columns = headers.map((_, c) => rows.map((row) => row[c] ?? null));
  const digits = columns.map((col) => columnDigits(col.filter((v): v is number => typeof v === 'number')));
  const numeric = columns.map(
    (col) => col.length > 0 && col.every((v) => v === null || typeof v === 'number'),
  );
  const body = rows.map((row) =>
    row.map((v, c) => (v === null ? MISSING : typeof v === 'number' ? fmt(v, digits[c]) : escapeCell(v))),
  );
  const styles = align ?? numeric.map((isNum): Align => (isNum ? 'r' : 'l'));
  return markdownTable([headers.map(escapeCell), ...body], { align: styles });
}

/** A Markdown ATX heading of level 1–6 (default 2), on one line. */
export function heading(text: string, level = 2): string {
  if (!Number.isInteger(level) || level < 1 || level > 6) {
    throw new RangeError(`heading level must be an integer within [1, 6], got ${level}`);
  }
  return `${'#'.repeat(level)} ${text.replace(/\s*\r?\n\s*/g, ' ').trim()}`;
}

/** Indents every line after the first of `text` by `width` spaces, for list continuation. */
function hang(text: string, width: number): string {
  return text.replace(/\r?\n/g, `\n${' '.repeat(width)}`);
}

/** A bullet list ("- item" per line); multi-line items are indented under their bullet. */
export function bulletList(items: readonly string[]): string {
  return items.map((item) => `- ${hang(item, 2)}`).join('\n');
}

/** A numbered list ("1. item" per line); multi-line items are indented under their number. */
export function numberedList(items: readonly string[]): string {
  return items
    .map((item, i) => {
      const marker = `${i + 1}. `;
      return marker + hang(item, marker.length);
    })
    .join('\n');
}

/**
 * How a report marks a value that was not measured: `— (not measured: reason)`, or just `—`
 * without a reason.
 */
export function missing(reason?: string): string {
  const r = reason?.trim();
  return r ? `${MISSING} (not measured: ${r})` : MISSING;
}

/**
 * A Markdown image, e.g. a chart saved beside the report: `![alt](src)`. Brackets in `alt` are
 * escaped; spaces, parentheses and angle brackets in `src` are percent-encoded.
 */
export function image(alt: string, src: string): string {
  const href = src.replace(/[ ()<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `![${alt.replace(/[[\]]/g, '\\$&')}](${href})`;
}

/** Joins Markdown blocks with one blank line between them, skipping empty ones; ends with a newline. */
export function blocks(...parts: readonly (string | null | undefined | false)[]): string {
  const kept = parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  return kept.map((p) => p.replace(/\s+$/, '')).join('\n\n') + '\n';
}
