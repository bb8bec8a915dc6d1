/**
 * Proxmox calendar events, the schedule syntax of PBS prune/verify/sync/GC jobs (and of Proxmox VE's
 * vzdump jobs). A reading of proxmox/proxmox-rs proxmox-time (f3305009): src/calendar_event.rs (grammar,
 * keywords, compute_next_event), src/date_time_value.rs (value lists), src/week_days.rs (weekday
 * ranges), src/parse_helpers.rs (numbers below a maximum), src/tm_editor.rs (how fields roll over).
 * The PBS API verifies every schedule with `verify_calendar_event` (pbs-api-types src/jobs.rs
 * *_SCHEDULE_SCHEMA), so a string accepted here is one the API accepts, and the other way round.
 *
 * Pure and dependency-free: the config schema, the alert rules (longest gap between runs) and the test
 * double of the PBS API all use it.
 */

/** A single value, an inclusive range, or start[..end]/repeat (date_time_value.rs DateTimeValue). */
type Value =
  | { kind: "single"; v: number }
  | { kind: "range"; from: number; to: number }
  | { kind: "repeat"; start: number; every: number; end?: number };

export interface CalendarEvent {
  utc: boolean;
  /** Monday = 0 … Sunday = 6; empty means every day. */
  weekdays: number[];
  /** Empty list = any value. */
  year: Value[];
  month: Value[];
  day: Value[];
  hour: Value[];
  minute: Value[];
  second: Value[];
}

export type CalendarParse = { ok: true; event: CalendarEvent } | { ok: false; error: string };

const zero = (): Value[] => [{ kind: "single", v: 0 }];

/** calendar_event.rs parse_calendar_event_incomplete: the keyword shortcuts. */
const KEYWORDS: Record<string, () => Omit<CalendarEvent, "utc">> = {
  minutely: () => ({ weekdays: [], year: [], month: [], day: [], hour: [], minute: [], second: zero() }),
  hourly: () => ({ weekdays: [], year: [], month: [], day: [], hour: [], minute: zero(), second: zero() }),
  daily: () => ({ weekdays: [], year: [], month: [], day: [], hour: zero(), minute: zero(), second: zero() }),
  weekly: () => ({
    weekdays: [0],
    year: [],
    month: [],
    day: [],
    hour: zero(),
    minute: zero(),
    second: zero(),
  }),
  monthly: () => ({
    weekdays: [],
    year: [],
    month: [],
    day: [{ kind: "single", v: 1 }],
    hour: zero(),
    minute: zero(),
    second: zero(),
  }),
  yearly: () => ({
    weekdays: [],
    year: [],
    month: [{ kind: "single", v: 1 }],
    day: [{ kind: "single", v: 1 }],
    hour: zero(),
    minute: zero(),
    second: zero(),
  }),
  quarterly: () => ({
    weekdays: [],
    year: [],
    month: [1, 4, 7, 10].map((v) => ({ kind: "single" as const, v })),
    day: [{ kind: "single", v: 1 }],
    hour: zero(),
    minute: zero(),
    second: zero(),
  }),
  semiannually: () => ({
    weekdays: [],
    year: [],
    month: [1, 7].map((v) => ({ kind: "single" as const, v })),
    day: [{ kind: "single", v: 1 }],
    hour: zero(),
    minute: zero(),
    second: zero(),
  }),
};
KEYWORDS["annually"] = KEYWORDS["yearly"]!;
KEYWORDS["semi-annually"] = KEYWORDS["semiannually"]!;

/** week_days.rs parse_weekday: case-insensitive, short or long English names. */
const WEEKDAY_NAMES: Record<string, number> = {
  mon: 0,
  monday: 0,
  tue: 1,
  tuesday: 1,
  wed: 2,
  wednesday: 2,
  thu: 3,
  thursday: 3,
  fri: 4,
  friday: 4,
  sat: 5,
  saturday: 5,
  sun: 6,
  sunday: 6,
};

class ParseError extends Error {}

/** A tiny cursor parser; every `fail` is nom's recoverable error, so `opt` can backtrack. */
class Cursor {
  constructor(
    public s: string,
    public pos = 0,
  ) {}
  get rest(): string {
    return this.s.slice(this.pos);
  }
  fail(what: string): never {
    throw new ParseError(`unable to parse calendar event at '${this.rest}' - ${what}`);
  }
  take(prefix: string): boolean {
    if (!this.rest.startsWith(prefix)) return false;
    this.pos += prefix.length;
    return true;
  }
  /** nom space0: spaces and tabs. */
  spaces(): void {
    while (this.pos < this.s.length && (this.s[this.pos] === " " || this.s[this.pos] === "\t")) this.pos++;
  }
  /** parse_helpers.rs parse_time_comp: digits, and the value must be below `max`. */
  number(max: number): number {
    const m = /^[0-9]+/.exec(this.rest);
    if (!m) this.fail("number");
    this.pos += m[0].length;
    const v = Number(m[0]);
    if (!Number.isSafeInteger(v) || v > 0xffffffff) this.fail("number");
    if (v >= max) this.fail("time value too large");
    return v;
  }
  /** Runs `f`; on a parse error restores the position and returns undefined (nom `opt`). */
  opt<T>(f: () => T): T | undefined {
    const at = this.pos;
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.pos = at;
      return undefined;
    }
  }
}

/** calendar_event.rs parse_date_time_comp: value[..end][/repeat]. */
function comp(c: Cursor, max: number): Value {
  const value = c.number(max);
  if (c.take("..")) {
    const end = c.number(max);
    if (value > end) c.fail("range start is bigger than end");
    if (c.take("/")) return { kind: "repeat", start: value, every: c.number(max), end };
    return { kind: "range", from: value, to: end };
  }
  if (c.take("/")) return { kind: "repeat", start: value, every: c.number(max) };
  return { kind: "single", v: value };
}

/** nom separated_list1: stops (without consuming the separator) at the first element that fails. */
function list1<T>(c: Cursor, item: () => T): T[] {
  const out = [item()];
  for (;;) {
    const at = c.pos;
    if (!c.take(",")) return out;
    const next = c.opt(item);
    if (next === undefined) {
      c.pos = at;
      return out;
    }
    out.push(next);
  }
}

/** calendar_event.rs parse_date_time_comp_list: a star, a star with a repeat (> 0), or a list of comps. */
function compList(c: Cursor, start: number, max: number): Value[] {
  if (c.take("*")) {
    const at = c.pos;
    if (c.take("/")) {
      const every = c.number(max);
      if (every > 0) return [{ kind: "repeat", start, every }];
    }
    // `*/0`: the star alone is consumed; the rest is left for the caller (and then rejected).
    c.pos = at;
    return [];
  }
  return list1(c, () => comp(c, max));
}

function weekdayRange(c: Cursor): number[] {
  const name = (): number => {
    const m = /^[A-Za-z]+/.exec(c.rest);
    if (!m) c.fail("weekday");
    const d = WEEKDAY_NAMES[m[0].toLowerCase()];
    if (d === undefined) c.fail("weekday");
    c.pos += m[0].length;
    return d;
  };
  const from = name();
  const at = c.pos;
  if (c.take("..")) {
    const to = c.opt(name);
    if (to !== undefined) {
      // week_days.rs parse_weekdays_range: fri..mon wraps over the weekend.
      const days: number[] = [];
      if (from > to) {
        for (let d = from; d <= 6; d++) days.push(d);
        for (let d = 0; d <= to; d++) days.push(d);
      } else for (let d = from; d <= to; d++) days.push(d);
      return days;
    }
    c.pos = at;
  }
  return [from];
}

function dateSpec(c: Cursor): { year: Value[]; month: Value[]; day: Value[] } {
  const full = c.opt(() => {
    const year = compList(c, 0, 2200);
    if (!c.take("-")) c.fail("invalid date spec");
    const month = compList(c, 1, 13);
    if (!c.take("-")) c.fail("invalid date spec");
    const day = compList(c, 1, 32);
    return { year, month, day };
  });
  if (full) return full;
  const short = c.opt(() => {
    const month = compList(c, 1, 13);
    if (!c.take("-")) c.fail("invalid date spec");
    return { year: [], month, day: compList(c, 1, 32) };
  });
  if (short) return short;
  return c.fail("invalid date spec");
}

function timeSpec(c: Cursor): { hour: Value[]; minute: Value[]; second: Value[] } {
  const hour =
    c.opt(() => {
      const h = compList(c, 0, 24);
      if (!c.take(":")) c.fail("time spec");
      return h;
    }) ?? [];
  const minute = compList(c, 0, 60);
  const second = c.opt(() => {
    if (!c.take(":")) c.fail("time spec");
    return compList(c, 0, 60);
  }) ?? [{ kind: "single" as const, v: 0 }];
  return { hour, minute, second };
}

/** Parses a calendar event exactly as proxmox-time's `CalendarEvent::from_str` does. */
export function parseCalendarEvent(input: string): CalendarParse {
  try {
    let i = input;
    let utc = false;
    if (i.endsWith("UTC")) {
      utc = true;
      i = i.slice(0, -3).replace(/ +$/, "");
    }
    if (/^[A-Za-z]/.test(i)) {
      const kw = KEYWORDS[i];
      if (kw) return { ok: true, event: { utc, ...kw() } };
    }
    const c = new Cursor(i);
    const event: CalendarEvent = {
      utc,
      weekdays: [],
      year: [],
      month: [],
      day: [],
      hour: [],
      minute: [],
      second: [],
    };
    let has = false;
    if (/^[A-Za-z]/.test(i)) {
      const days = new Set(list1(c, () => weekdayRange(c)).flat());
      event.weekdays = [...days].sort();
      has = true;
      c.spaces();
    }
    const date = c.opt(() => dateSpec(c));
    if (date) {
      Object.assign(event, date);
      has = true;
      c.spaces();
    }
    const time = c.opt(() => timeSpec(c));
    if (time) {
      Object.assign(event, time);
      has = true;
    } else {
      event.hour = zero();
      event.minute = zero();
      event.second = zero();
    }
    if (!has) c.fail("date or time specification");
    if (c.pos !== i.length) c.fail("trailing input");
    return { ok: true, event };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message };
    throw e;
  }
}

/** `verify_calendar_event` (calendar_event.rs): undefined when valid, else the reason. */
export const calendarEventProblem = (s: string): string | undefined => {
  const r = parseCalendarEvent(s);
  return r.ok ? undefined : r.error;
};

const contains = (list: Value[], x: number): boolean =>
  list.some((v) => {
    if (v.kind === "single") return v.v === x;
    if (v.kind === "range") return x >= v.from && x <= v.to;
    if (x < v.start) return false;
    if (v.every === 0) return v.start === x;
    return (x - v.start) % v.every === 0 && (v.end === undefined || x <= v.end);
  });

/** date_time_value.rs find_next: the smallest listed value greater than `x`. */
function findNext(list: Value[], x: number): number | undefined {
  let next: number | undefined;
  const consider = (n: number) => {
    if (next === undefined || n < next) next = n;
  };
  for (const v of list) {
    if (v.kind === "single") {
      if (v.v > x) consider(v.v);
    } else if (v.kind === "range") {
      if (x < v.from) consider(v.from);
      else if (x + 1 >= v.from && x + 1 <= v.to) consider(x + 1);
    } else if (x < v.start) consider(v.start);
    else if (v.every > 0) {
      const n = v.start + Math.floor((x - v.start + v.every) / v.every) * v.every;
      if (v.end === undefined || n <= v.end) consider(n);
    }
  }
  return next;
}

/** A broken-down UTC time that normalizes like mktime/timegm (tm_editor.rs). */
class Tm {
  year = 1970;
  mon = 0;
  mday = 1;
  hour = 0;
  min = 0;
  sec = 0;
  constructor(epoch: number) {
    this.set(epoch);
  }
  private set(epoch: number): void {
    const d = new Date(epoch * 1000);
    this.year = d.getUTCFullYear();
    this.mon = d.getUTCMonth();
    this.mday = d.getUTCDate();
    this.hour = d.getUTCHours();
    this.min = d.getUTCMinutes();
    this.sec = d.getUTCSeconds();
  }
  epoch(): number {
    return Date.UTC(this.year, this.mon, this.mday, this.hour, this.min, this.sec) / 1000;
  }
  private normalize(): void {
    this.set(this.epoch());
  }
  /** Monday = 0 (tm_editor.rs day_num). */
  dayNum(): number {
    return (new Date(this.epoch() * 1000).getUTCDay() + 6) % 7;
  }
  addYears(n: number): void {
    if (n === 0) return;
    Object.assign(this, { mon: 0, mday: 1, hour: 0, min: 0, sec: 0, year: this.year + n });
    this.normalize();
  }
  addMonths(n: number): void {
    if (n === 0) return;
    Object.assign(this, { mday: 1, hour: 0, min: 0, sec: 0, mon: this.mon + n });
    this.normalize();
  }
  addDays(n: number): void {
    if (n === 0) return;
    Object.assign(this, { hour: 0, min: 0, sec: 0, mday: this.mday + n });
    this.normalize();
  }
  setTime(h: number, m: number, s: number): void {
    Object.assign(this, { hour: h, min: m, sec: s });
    this.normalize();
  }
  setMinSec(m: number, s: number): void {
    Object.assign(this, { min: m, sec: s });
    this.normalize();
  }
  setSec(s: number): void {
    this.sec = s;
    this.normalize();
  }
}

/**
 * calendar_event.rs compute_next_event: the first matching time strictly after `last` (Unix seconds),
 * or undefined when none is found within its 1000 steps (a date that never comes). Evaluated in UTC:
 * PBS uses the server's local time zone unless the event ends in UTC; a DST shift moves a run by an
 * hour, which the alert grace periods cover.
 */
export function nextEvent(e: CalendarEvent, last: number): number | undefined {
  const t = new Tm(last + 1);
  const allDays = e.weekdays.length === 0 || e.weekdays.length === 7;
  for (let count = 0; count <= 1000; count++) {
    if (e.year.length > 0 && !contains(e.year, t.year)) {
      const n = findNext(e.year, t.year);
      if (n === undefined) return undefined;
      t.addYears(n - t.year);
      continue;
    }
    const month = t.mon + 1;
    if (e.month.length > 0 && !contains(e.month, month)) {
      const n = findNext(e.month, month);
      if (n !== undefined) t.addMonths(n - month);
      else t.addYears(1);
      continue;
    }
    if (e.day.length > 0 && !contains(e.day, t.mday)) {
      const n = findNext(e.day, t.mday);
      if (n !== undefined) t.addDays(n - t.mday);
      else t.addMonths(1);
      continue;
    }
    if (!allDays) {
      const d = t.dayNum();
      if (!e.weekdays.includes(d)) {
        const n = e.weekdays.filter((w) => w > d).sort()[0];
        t.addDays(n !== undefined ? n - d : 7 - d);
        continue;
      }
    }
    if (e.hour.length > 0 && !contains(e.hour, t.hour)) {
      const n = findNext(e.hour, t.hour);
      if (n !== undefined) t.setTime(n, 0, 0);
      else t.addDays(1);
      continue;
    }
    if (e.minute.length > 0 && !contains(e.minute, t.min)) {
      const n = findNext(e.minute, t.min);
      if (n !== undefined) t.setMinSec(n, 0);
      else t.setTime(t.hour + 1, 0, 0);
      continue;
    }
    if (e.second.length > 0 && !contains(e.second, t.sec)) {
      const n = findNext(e.second, t.sec);
      if (n !== undefined) t.setSec(n);
      else t.setMinSec(t.min + 1, 0);
      continue;
    }
    return t.epoch();
  }
  return undefined;
}

/** 2025-01-06 00:00:00 UTC, a Monday: the start of the window in which gaps are measured. */
const WINDOW_START = 1_736_121_600;
const WINDOW_SECONDS = 2 * 366 * 86_400;
const MAX_STEPS = 100_000;

/**
 * The longest time between two runs of a schedule over two years (so February 29th and 31-day months
 * are seen), or undefined when it runs fewer than twice in that window (a one-off date, a date that
 * does not exist). Alerts use it: "stale" means older than the longest regular gap plus a grace period.
 * Very dense schedules are measured over their first 100 000 runs.
 */
export function longestGapSeconds(expr: string): number | undefined {
  // Walking two years of runs takes tens of milliseconds for a daily schedule, and the schema, the
  // alert rules and the cost estimate each ask for the same few schedules: the answer is kept per text.
  if (gapCache.has(expr)) return gapCache.get(expr);
  const gap = measureLongestGap(expr);
  if (gapCache.size >= GAP_CACHE_LIMIT) gapCache.clear();
  gapCache.set(expr, gap);
  return gap;
}

const GAP_CACHE_LIMIT = 1000;
const gapCache = new Map<string, number | undefined>();

function measureLongestGap(expr: string): number | undefined {
  const p = parseCalendarEvent(expr);
  if (!p.ok) return undefined;
  let prev = nextEvent(p.event, WINDOW_START - 1);
  if (prev === undefined) return undefined;
  let gap: number | undefined;
  for (let i = 0; i < MAX_STEPS; i++) {
    const next = nextEvent(p.event, prev);
    if (next === undefined || next > WINDOW_START + WINDOW_SECONDS) break;
    gap = Math.max(gap ?? 0, next - prev);
    prev = next;
  }
  return gap;
}
