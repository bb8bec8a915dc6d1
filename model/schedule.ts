import { z } from "zod";

/**
 * Calendar events as the two programs that read ours parse them, so a schedule the node would refuse
 * (or read differently) is a config error here instead of a failed unit or a rejected API call:
 *
 * - systemd's OnCalendar= (Borg timers on the storage node, Debian bookworm: systemd 252). Follows
 *   systemd/systemd src/shared/calendarspec.c (calendar_spec_from_string, parse_weekdays, parse_date,
 *   parse_calendar_time, prepend_component, chain_valid). Deliberately narrower in two places, both
 *   rejected with a message: time zones other than UTC (systemd accepts any zoneinfo name, which depends
 *   on the node's tzdata) and `@<unix time>` (a single instant is not a schedule). Leading or trailing
 *   blanks are rejected too (a unit file would trim them; a value with them is a typo).
 *   tests/model/schedule.integration.test.ts compares this with the real `systemd-analyze calendar` on generated
 *   expressions.
 * - Proxmox VE's calendar events (the vzdump job schedule, sent to the PVE API). Follows
 *   proxmox/proxmox-rs proxmox-time/src/parse_time.rs (parse_calendar_event), week_days.rs and
 *   parse_helpers.rs (parse_time_comp).
 */

export type ScheduleCheck = { ok: true } | { ok: false; error: string };

const USEC_PER_SEC = 1_000_000;
const WEEKDAY_NAMES: [string, number][] = [
  ["Monday", 0],
  ["Mon", 0],
  ["Tuesday", 1],
  ["Tue", 1],
  ["Wednesday", 2],
  ["Wed", 2],
  ["Thursday", 3],
  ["Thu", 3],
  ["Friday", 4],
  ["Fri", 4],
  ["Saturday", 5],
  ["Sat", 5],
  ["Sunday", 6],
  ["Sun", 6],
];
const SYSTEMD_SHORTHANDS = new Set([
  "minutely",
  "hourly",
  "daily",
  "monthly",
  "weekly",
  "yearly",
  "annually",
  "anually",
  "quarterly",
  "semiannually",
  "semi-annually",
  "biannually",
  "bi-annually",
]);

class Invalid extends Error {}
const invalid = (why: string): never => {
  throw new Invalid(why);
};

interface Component {
  start: number;
  stop: number;
  repeat: number;
}

/** A cursor over the expression, like calendarspec.c's `const char **p`. */
class Cursor {
  constructor(
    readonly s: string,
    public i = 0,
  ) {}
  get c(): string {
    return this.s[this.i] ?? "";
  }
  at(k: number): string {
    return this.s[this.i + k] ?? "";
  }
  skipSpaces(): void {
    while (this.c === " ") this.i++;
  }
}

const isDigit = (c: string) => c >= "0" && c <= "9";

/** parse_component_decimal: digits (strtoul), for seconds with an optional fraction of up to 6 digits. */
function decimal(p: Cursor, usec: boolean): number {
  if (!isDigit(p.c)) invalid(`expected a number at "${p.s.slice(p.i)}"`);
  let text = "";
  while (isDigit(p.c)) text += p.s[p.i++];
  let value = Number(text);
  if (!Number.isSafeInteger(value)) invalid(`${text} is out of range`);
  if (usec) {
    value *= USEC_PER_SEC;
    // One "." is a decimal point, ".." is a range.
    if (p.c === "." && p.at(1) !== ".") {
      p.i++;
      let frac = "";
      while (isDigit(p.c)) frac += p.s[p.i++];
      if (frac === "") invalid("a decimal point needs digits after it");
      value += Math.floor(Number(`0.${frac}`) * USEC_PER_SEC + 1e-6);
    }
  }
  if (value > 2 ** 31 - 1) invalid(`${text} is out of range`);
  return value;
}

/** parse_chain / prepend_component: `*`, or a comma list of `a`, `a..b`, `a/r`, `a..b/r`. */
function chain(p: Cursor, usec: boolean): Component[] | null {
  if (p.c === "*") {
    p.i++;
    return usec ? [{ start: 0, stop: -1, repeat: USEC_PER_SEC }] : null;
  }
  const out: Component[] = [];
  for (;;) {
    if (out.length > 240) invalid("too many values in one field");
    const start = decimal(p, usec);
    let stop = -1;
    let repeat = 0;
    if (p.c === "." && p.at(1) === ".") {
      p.i += 2;
      stop = decimal(p, usec);
      repeat = usec ? USEC_PER_SEC : 1;
    }
    if (p.c === "/") {
      p.i++;
      repeat = decimal(p, usec);
      if (repeat === 0) invalid("a repetition of 0 never advances");
    } else if (usec && stop >= 0 && start + repeat > stop)
      // Without a repetition a seconds range steps by 1 s, so it must span at least that.
      invalid("a range of seconds must span at least one second");
    if (!["", " ", ",", "-", "~", ":"].includes(p.c)) invalid(`unexpected "${p.c}"`);
    out.push({ start, stop, repeat });
    if (p.c !== ",") return out;
    p.i++;
  }
}

/** parse_weekdays; returns whether any weekday was given. */
function weekdays(p: Cursor): void {
  let l = -1;
  let first = true;
  for (;;) {
    const rest = p.s.slice(p.i).toLowerCase();
    const hit = WEEKDAY_NAMES.find(([name]) => rest.startsWith(name.toLowerCase()));
    if (!hit) {
      if (first) return;
      invalid(`"${p.s.slice(p.i)}" is not a weekday`);
    }
    const [name, nr] = hit!;
    if (!["", "-", ".", ",", " "].includes(p.at(name.length)))
      invalid(`"${p.s.slice(p.i)}" is not a weekday`);
    if (l >= 0 && l > nr) invalid("a weekday range must run forwards (Mon..Fri, not Fri..Mon)");
    p.i += name.length;
    if (p.c === "") return;
    if (p.c === " ") {
      p.skipSpaces();
      return;
    }
    if (p.c === ".") {
      if (l >= 0 || p.at(1) !== ".") invalid("malformed weekday range");
      l = nr;
      p.i += 2;
    } else if (p.c === "-") {
      if (l >= 0) invalid("malformed weekday range");
      l = nr;
      p.i += 1;
    } else if (p.c === ",") {
      l = -1;
      p.i += 1;
    }
    if (p.c === "" || p.c === " ") {
      p.skipSpaces();
      if (l >= 0) invalid("a weekday range needs its end");
      return;
    }
    first = false;
  }
}

interface Spec {
  year: Component[] | null;
  month: Component[] | null;
  day: Component[] | null;
  hour: Component[] | null;
  minute: Component[] | null;
  second: Component[] | null;
  endOfMonth: boolean;
}

/** parse_date: returns true when the date was an @timestamp (not supported here). */
function date(p: Cursor, spec: Spec): void {
  if (p.c === "") return;
  if (p.c === "@") invalid("a single @<unix time> is not a recurring schedule");
  const t = new Cursor(p.s, p.i);
  const first = chain(t, false);
  if (t.c === "" || t.c === ":") return; // a time, not a date: parse_calendar_time starts over
  if (t.c === "~") spec.endOfMonth = true;
  else if (t.c !== "-") invalid(`unexpected "${t.c}" in the date`);
  t.i++;
  const second = chain(t, false);
  if (t.c === "" || t.c === " ") {
    t.skipSpaces();
    p.i = t.i;
    spec.month = first;
    spec.day = second;
    return;
  }
  if (spec.endOfMonth) invalid("'~' only separates month and day");
  if (t.c === "~") spec.endOfMonth = true;
  else if (t.c !== "-") invalid(`unexpected "${t.c}" in the date`);
  t.i++;
  const third = chain(t, false);
  if (t.c !== "" && t.c !== " ") invalid(`unexpected "${t.c}" after the date`);
  t.skipSpaces();
  p.i = t.i;
  spec.year = first;
  spec.month = second;
  spec.day = third;
}

/** parse_calendar_time: H:M[:S]; nothing at all means 00:00:00. */
function time(p: Cursor, spec: Spec): void {
  const zero = (): Component[] => [{ start: 0, stop: -1, repeat: 0 }];
  if (p.c === "") {
    [spec.hour, spec.minute, spec.second] = [zero(), zero(), zero()];
    return;
  }
  spec.hour = chain(p, false);
  if (p.c !== ":") invalid("a time is HH:MM or HH:MM:SS");
  p.i++;
  spec.minute = chain(p, false);
  if (p.c === "") {
    spec.second = zero();
    return;
  }
  if (p.c !== ":") invalid("a time is HH:MM or HH:MM:SS");
  p.i++;
  spec.second = chain(p, true);
  if (p.c !== "") invalid(`unexpected "${p.s.slice(p.i)}" after the time`);
}

/** calendar_spec_normalize (year fix, normalize_chain), then chain_valid. */
function validChain(
  c: Component[] | null,
  from: number,
  to: number,
  endOfMonth = false,
  year = false,
): boolean {
  if (!c) return true;
  const fix = (v: number) => (!year ? v : v >= 0 && v < 70 ? v + 2000 : v >= 70 && v < 100 ? v + 1900 : v);
  const normalized = c.map(({ start: s0, stop: e0, repeat }) => {
    const start = fix(s0);
    let stop = fix(e0);
    let rep = repeat;
    // The range is cut to a multiple of the repetition; a repetition that cannot trigger even once, or a
    // range that starts where it stops, becomes a single value.
    if (stop > start && rep > 0) stop -= (stop - start) % rep;
    if ((stop > start && rep > 0 && start + rep > stop) || start === stop) {
      rep = 0;
      stop = -1;
    }
    return { start, stop, repeat: rep };
  });
  // Sorted by (start, stop, repeat) and deduplicated, as normalize_chain leaves the chain.
  normalized.sort((a, b) => a.start - b.start || a.stop - b.stop || a.repeat - b.repeat);
  const chainList = normalized.filter(
    (x, i) =>
      i === 0 ||
      x.start !== normalized[i - 1]!.start ||
      x.stop !== normalized[i - 1]!.stop ||
      x.repeat !== normalized[i - 1]!.repeat,
  );
  for (const { start, stop, repeat } of chainList) {
    // chain_valid recurses with the `to` it already lowered: with '~', every further element of the
    // list may lie another 3 days less far from the end of the month (systemd 252 behaves so).
    if (endOfMonth) to -= 3;
    if (start < from || start > to) return false;
    if (repeat > to - from) return false;
    if (stop >= 0) {
      if (stop < from || stop > to) return false;
      if (start + repeat > stop) return false;
    } else {
      if (endOfMonth && start - repeat < from) return false;
      if (!endOfMonth && start + repeat > to) return false;
    }
  }
  return true;
}

/** Whether systemd (calendar_spec_from_string) accepts `expr` as an OnCalendar= value. */
export function checkOnCalendar(expr: string): ScheduleCheck {
  try {
    if (expr !== expr.trim()) invalid("leading or trailing blanks");
    if (/[^\x20-\x7e]/.test(expr)) invalid("only printable ASCII characters are allowed");
    let text = expr;
    if (/ utc$/i.test(text)) text = text.slice(0, -4);
    else if (
      / [A-Za-z][A-Za-z0-9_+/-]*$/.test(text) &&
      /[/_]|^[A-Z]{3,5}$/.test(text.slice(text.lastIndexOf(" ") + 1))
    )
      invalid("time zones other than UTC are not supported here (they depend on the node's tzdata)");
    if (text === "") invalid("empty");
    if (SYSTEMD_SHORTHANDS.has(text.toLowerCase())) return { ok: true };
    const spec: Spec = {
      year: null,
      month: null,
      day: null,
      hour: null,
      minute: null,
      second: null,
      endOfMonth: false,
    };
    const p = new Cursor(text);
    weekdays(p);
    date(p, spec);
    time(p, spec);
    if (p.c !== "") invalid(`unexpected "${p.s.slice(p.i)}"`);
    if (spec.endOfMonth && !spec.day) spec.endOfMonth = false;
    const ok =
      validChain(spec.year, 1970, 2199, false, true) &&
      validChain(spec.month, 1, 12) &&
      validChain(spec.day, 1, 31, spec.endOfMonth) &&
      validChain(spec.hour, 0, 23) &&
      validChain(spec.minute, 0, 59) &&
      validChain(spec.second, 0, 60 * USEC_PER_SEC - 1);
    if (!ok) invalid("a value is out of range (hour 0-23, minute and second 0-59, month 1-12, day 1-31)");
    return { ok: true };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}

const PVE_SHORTHANDS = new Set([
  "minutely",
  "hourly",
  "daily",
  "weekly",
  "monthly",
  "yearly",
  "annually",
  "quarterly",
  "semiannually",
  "semi-annually",
]);
const PVE_WEEKDAYS = new Set([
  "monday",
  "mon",
  "tuesday",
  "tue",
  "wednesday",
  "wed",
  "thursday",
  "thu",
  "friday",
  "fri",
  "saturday",
  "sat",
  "sunday",
  "sun",
]);

/** parse_date_time_comp_list: `*`, `*\/r`, or a comma list of `v`, `v..e`, `v/r`, `v..e/r` (each < max). */
function pveList(p: Cursor, max: number): boolean {
  if (p.c === "*") {
    p.i++;
    if (p.at(0) === "/") {
      const save = p.i;
      p.i++;
      const r = pveNumber(p, max);
      if (r === undefined || r === 0) p.i = save;
    }
    return true;
  }
  for (;;) {
    const v = pveNumber(p, max);
    if (v === undefined) return false;
    if (p.c === "." && p.at(1) === ".") {
      p.i += 2;
      const end = pveNumber(p, max);
      if (end === undefined || v > end) return false;
    }
    if (p.c === "/" && pveNumber(new Cursor(p.s, p.i + 1), max) !== undefined) {
      p.i++;
      pveNumber(p, max);
    } else if (p.c === "/") return false;
    if (p.c !== ",") return true;
    p.i++;
  }
}

function pveNumber(p: Cursor, max: number): number | undefined {
  let text = "";
  while (isDigit(p.c)) text += p.s[p.i++];
  if (text === "" || Number(text) >= max) return undefined;
  return Number(text);
}

/** Whether Proxmox VE (proxmox-time parse_calendar_event) accepts `expr` as a calendar event. */
export function checkPveCalendarEvent(expr: string): ScheduleCheck {
  const fail = (why: string): ScheduleCheck => ({ ok: false, error: `Proxmox VE would refuse it: ${why}` });
  if (PVE_SHORTHANDS.has(expr)) return { ok: true };
  const p = new Cursor(expr);
  let any = false;
  if (/^[A-Za-z]/.test(expr)) {
    for (;;) {
      for (let k = 0; k < 2; k++) {
        const m = /^[A-Za-z]+/.exec(p.s.slice(p.i));
        if (!m || !PVE_WEEKDAYS.has(m[0].toLowerCase()))
          return fail(`"${m?.[0] ?? p.s.slice(p.i)}" is not a weekday`);
        p.i += m[0].length;
        if (k === 0 && p.c === "." && p.at(1) === ".") p.i += 2;
        else break;
      }
      if (p.c !== ",") break;
      p.i++;
    }
    any = true;
    p.skipSpaces();
  }
  // opt(date): year-month-day, else month-day; a failed attempt consumes nothing.
  for (const parts of [
    [2200, 13, 32],
    [13, 32],
  ]) {
    const t = new Cursor(p.s, p.i);
    let ok = true;
    parts.forEach((max, k) => {
      if (!ok) return;
      if (k > 0) {
        if (t.c !== "-") return (ok = false);
        t.i++;
      }
      ok = pveList(t, max);
    });
    if (ok) {
      p.i = t.i;
      p.skipSpaces();
      any = true;
      break;
    }
  }
  // opt(time): [hours ":"] minutes [":" seconds]
  const t = new Cursor(p.s, p.i);
  const h = new Cursor(p.s, p.i);
  if (pveList(h, 24) && h.c === ":") t.i = h.i + 1;
  if (pveList(t, 60)) {
    if (t.c === ":") {
      const s = new Cursor(p.s, t.i + 1);
      if (pveList(s, 60)) t.i = s.i;
    }
    p.i = t.i;
    any = true;
  }
  if (!any) return fail("expected a weekday, a date or a time");
  if (p.c !== "") return fail(`cannot read "${p.s.slice(p.i)}"`);
  return { ok: true };
}

const EXAMPLES = 'e.g. "daily", "*-*-* 03:00:00", "Mon..Fri 02:00"';

/** A systemd OnCalendar= value (a Borg timer on the storage node). */
export const onCalendar = z.string().superRefine((v, ctx) => {
  const r = checkOnCalendar(v);
  if (!r.ok)
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(v)} is not a systemd calendar event: ${r.error}; ${EXAMPLES}`,
    });
});

/** A schedule both Proxmox VE (which stores it) and systemd's grammar (which documents it) accept. */
export const pveCalendarEvent = onCalendar.superRefine((v, ctx) => {
  const r = checkPveCalendarEvent(v);
  if (checkOnCalendar(v).ok && !r.ok)
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(v)}: ${r.error}; ${EXAMPLES}` });
});
