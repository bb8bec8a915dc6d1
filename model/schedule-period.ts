/**
 * The longest gap between two runs of a systemd OnCalendar expression, in seconds. Alert rules need it:
 * "older than its schedule allows" means older than the longest regular gap plus a grace period.
 *
 * Only a subset of systemd.time(7) is understood (the forms a backup schedule uses). Anything else is
 * rejected with a message instead of guessed at, because a wrong period silently mutes an alert.
 */

const DAY = 86_400;
const SHORTHANDS: Record<string, number> = {
  minutely: 60,
  hourly: 3_600,
  daily: DAY,
  weekly: 7 * DAY,
  // The longest month, quarter, half-year and year: the alert must not fire in a long month.
  monthly: 31 * DAY,
  quarterly: 92 * DAY,
  semiannually: 184 * DAY,
  yearly: 366 * DAY,
  annually: 366 * DAY,
};
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export class ScheduleError extends Error {}

const fail = (expr: string, why: string): never => {
  throw new ScheduleError(
    `OnCalendar "${expr}": ${why}; supported: daily|weekly|monthly|..., "[Mon,Thu] *-*-* HH:MM[:SS]", "*-*-DD[,DD] HH:MM[:SS]"`,
  );
};

/** Expands one field like `*`, `3`, `1,15`, `0/6`, `8..18` within [min, max]. */
function expandField(expr: string, field: string, min: number, max: number): number[] {
  if (field === "*") return range(min, max, 1);
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const rep = /^(\d+|\*)\/(\d+)$/.exec(part);
    const span = /^(\d+)\.\.(\d+)$/.exec(part);
    if (rep) {
      const start = rep[1] === "*" ? min : Number(rep[1]);
      const step = Number(rep[2]);
      if (step <= 0) fail(expr, `repetition step in "${part}" must be positive`);
      range(start, max, step).forEach((v) => out.add(v));
    } else if (span) range(Number(span[1]), Number(span[2]), 1).forEach((v) => out.add(v));
    else if (/^\d+$/.test(part)) out.add(Number(part));
    else fail(expr, `cannot read "${part}"`);
  }
  const values = [...out].sort((a, b) => a - b);
  if (values.length === 0 || values[0]! < min || values[values.length - 1]! > max)
    fail(expr, `"${field}" is outside ${min}..${max}`);
  return values;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

function weekdays(expr: string, field: string): number[] {
  const out = new Set<number>();
  for (const part of field.toLowerCase().split(",")) {
    const [a, b] = part.split("..");
    const from = WEEKDAYS.indexOf((a ?? "").slice(0, 3));
    const to = b === undefined ? from : WEEKDAYS.indexOf(b.slice(0, 3));
    if (from < 0 || to < 0) fail(expr, `"${part}" is not a weekday`);
    for (let d = from; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** Largest gap between consecutive points of a cyclic set of offsets within `cycle`. */
function maxCyclicGap(points: number[], cycle: number): number {
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  let gap = sorted[0]! + cycle - sorted[sorted.length - 1]!;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}

export function schedulePeriodSeconds(expr: string): number {
  const text = expr.trim();
  const shorthand = SHORTHANDS[text.toLowerCase()];
  if (shorthand !== undefined) return shorthand;
  const parts = text.split(/\s+/);
  let dow: string | undefined;
  if (parts.length > 0 && /^[A-Za-z]/.test(parts[0]!)) dow = parts.shift();
  let date = "*-*-*";
  if (parts.length === 2) date = parts.shift()!;
  if (parts.length !== 1) fail(expr, "expected [weekday] [date] time");
  const time = parts[0]!;

  const dm = /^(\*|\d{4})-(\*|[\d,./*]+)-([\d,./*]+)$/.exec(date);
  if (!dm) fail(expr, `cannot read date "${date}"`);
  if (dm![1] !== "*" || dm![2] !== "*") fail(expr, "year or month restrictions are not supported");
  const tm = /^([\d,./*]+):([\d,./*]+)(?::([\d,./*]+))?$/.exec(time);
  if (!tm) fail(expr, `cannot read time "${time}"`);
  const hours = expandField(expr, tm![1]!, 0, 23);
  const minutes = expandField(expr, tm![2]!, 0, 59);
  const seconds = expandField(expr, tm![3] ?? "00", 0, 59);
  const inDay = hours.flatMap((h) => minutes.flatMap((m) => seconds.map((s) => h * 3600 + m * 60 + s)));

  let days: number[];
  let cycleDays: number;
  if (dm![3] !== "*") {
    if (dow !== undefined) fail(expr, "weekday and day-of-month together are not supported");
    // Worst case is a 31-day month: the gap from the last listed day to the first one of next month.
    days = expandField(expr, dm![3]!, 1, 31);
    cycleDays = 31;
  } else if (dow !== undefined) {
    days = weekdays(expr, dow);
    cycleDays = 7;
  } else {
    days = [0];
    cycleDays = 1;
  }
  return maxCyclicGap(
    days.flatMap((d) => inDay.map((t) => d * DAY + t)),
    cycleDays * DAY,
  );
}

/**
 * How late a job may be before it counts as missed: RandomizedDelaySec, the run time of a large job and
 * one failed night are absorbed, without letting a daily job go unnoticed for days.
 */
export function graceSeconds(period: number): number {
  return Math.min(Math.max(Math.round(period / 4), 6 * 3600), 2 * DAY);
}
