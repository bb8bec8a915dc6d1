import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { checkOnCalendar, checkPveCalendarEvent } from "../../model/schedule";

/**
 * Asks the real systemd (Debian bookworm: systemd 252, `systemd-analyze calendar`) which expressions it
 * accepts, all in one process: it prints "Failed to parse calendar specification '<expr>'" for each one
 * it refuses and carries on with the next.
 */
function systemdAccepts(exprs: string[]): Map<string, boolean> {
  const r = spawnSync("systemd-analyze", ["calendar", "--iterations=1", "--", ...exprs], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC", LC_ALL: "C" },
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  const failed = new Set(
    [...r.stderr.matchAll(/^Failed to parse calendar specification '(.*)': /gm)].map((m) => m[1]!),
  );
  return new Map(exprs.map((e) => [e, !failed.has(e)]));
}

// Expressions built like calendarspec.c reads them (weekdays, date, time): mostly well-formed parts,
// each with a few near misses (out of range, wrong separator, open range) mixed in, so both verdicts
// are common. Time zones other than UTC are left out on purpose: they are rejected here by design (see
// model/schedule.ts).
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 7, arbitrary: good }, { weight: 1, arbitrary: bad });
const inRange = (max: number) => fc.integer({ min: 0, max }).map(String);
const item = (max: number, bad: string[]) =>
  mostly(
    fc.oneof(
      { weight: 4, arbitrary: inRange(max) },
      { weight: 1, arbitrary: fc.tuple(inRange(max), inRange(max)).map(([a, b]) => `${a}..${b}`) },
      {
        weight: 1,
        arbitrary: fc.tuple(inRange(max), fc.integer({ min: 1, max: 9 })).map(([a, r]) => `${a}/${r}`),
      },
    ),
    fc.constantFrom(...bad),
  );
const field = (max: number, bad: string[]) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant("*") },
    {
      weight: 3,
      arbitrary: fc.array(item(max, bad), { minLength: 1, maxLength: 2 }).map((v) => v.join(",")),
    },
  );
const BAD = ["60", "99", "*/2", "1.", "x", "3/0", ""];
const day = mostly(
  fc.constantFrom("Mon", "mon", "Tue", "Wednesday", "Fri", "Sat", "sun", "Sunday", "MON"),
  fc.constant("Mond"),
);
const weekdays = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: day },
      {
        weight: 1,
        arbitrary: fc.tuple(day, day, fc.constantFrom("..", "-", ".")).map(([a, b, s]) => `${a}${s}${b}`),
      },
    ),
    { minLength: 1, maxLength: 3 },
  )
  .chain((d) => mostly(fc.constant(d.join(",")), fc.constant(`${d.join(",")},`)));
const date = fc.oneof(
  fc
    .tuple(
      mostly(fc.constantFrom("*", "2024", "2199", "70", "2024,2025"), fc.constantFrom("2200", "1969")),
      field(12, BAD),
      field(31, BAD),
      mostly(fc.constant("-"), fc.constant("~")),
    )
    .map(([y, m, d, s]) => `${y}-${m}${s}${d}`),
  fc
    .tuple(field(12, BAD), field(31, BAD), mostly(fc.constant("-"), fc.constant("~")))
    .map(([m, d, s]) => `${m}${s}${d}`),
);
const seconds = mostly(field(59, BAD), fc.constantFrom("00.5", "0.25", "59.999999", "1..1.5"));
const time = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(field(23, BAD), field(59, BAD)).map(([h, m]) => `${h}:${m}`) },
  {
    weight: 2,
    arbitrary: fc.tuple(field(23, BAD), field(59, BAD), seconds).map(([h, m, x]) => `${h}:${m}:${x}`),
  },
  { weight: 1, arbitrary: field(23, BAD) },
);
const expression = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "daily",
      "weekly",
      "Monthly",
      "hourly",
      "quarterly",
      "yearly",
      "never",
      "daily UTC",
    ),
  },
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.option(weekdays), fc.option(date), fc.option(time, { freq: 4 }), fc.boolean())
      .map(([w, d, t, utc]) => [w, d, t].filter((x) => x !== null).join(" ") + (utc ? " UTC" : ""))
      .filter((e) => e.trim() !== "" && e !== " UTC"),
  },
);

describe("OnCalendar validation agrees with systemd-analyze calendar (systemd 252)", () => {
  const examples = [
    "daily",
    "Mon..Fri 08:00",
    "Sun *-*-* 05:00:00",
    "*-*-* 03:00:00",
    "02:30",
    "*-*-01 07:00:00",
    "*-*~01",
    "2~15",
    "Mon,Thu *-*-* 04:00",
    "*-*-1,15 07:00",
    "*-*-* 00/6:00",
    "Mon..Fri *-*-* 01:00",
    "*:0/15",
    "4..10/2:0",
    "5..5:00",
    "00:00:00.5",
    "12:00 UTC",
    "Mon,",
    "MON",
    "Monday-Friday 3:00",
    "*/2:00",
    "Fri..Mon",
    "00:00:60",
    "mon-",
    "3/0:00",
    "2200-01-01",
    "0",
    "25:00",
    "every night at 3",
    "daily\nExecStartPre=/bin/sh",
    " daily",
    "daily ",
    "*-*-* 3:00 ",
    "Mon..",
    "1..3/2",
  ];

  it("on hand-picked expressions, accepted and refused", () => {
    const real = systemdAccepts(examples);
    for (const e of examples)
      expect({ e, accepted: checkOnCalendar(e).ok }).toEqual({
        e,
        // Leading/trailing blanks and control characters are refused here even where systemd trims them.
        accepted: real.get(e)! && e === e.trim() && !/\n/.test(e),
      });
  });

  it("on generated expressions: accepts exactly what systemd accepts", () => {
    // A fixed sample (the same on every run) plus a fresh one, so new corners are tried over time.
    const samples = fc.sample(expression, { numRuns: 600, seed: 4242 });
    const fresh = fc.sample(expression, 300);
    const all = [...new Set([...samples, ...fresh])].filter((e) => e === e.trim() && !e.includes("  "));
    const real = systemdAccepts(all);
    const disagree = all.filter((e) => checkOnCalendar(e).ok !== real.get(e));
    expect(disagree).toEqual([]);
    // The generator must exercise both sides, or the comparison proves little.
    expect([...real.values()].filter(Boolean).length).toBeGreaterThan(100);
    expect([...real.values()].filter((x) => !x).length).toBeGreaterThan(100);
  });
});

describe("Proxmox VE calendar events (port of proxmox-time parse_calendar_event)", () => {
  // Accepted by the upstream tests (proxmox/proxmox-rs proxmox-time/src/test.rs).
  it.each([
    "0",
    "*",
    "*:0",
    "*:*",
    "*:*:*",
    "*:3:5",
    "mon *:*",
    "mon 2:50",
    "tue",
    "4..10/2:0",
    "5,10:4,8",
    "6,4..10:23,5/5",
    "daily",
    "5/2:0",
    "2020-07-31",
    "02-28",
    "2020-7..9-2/2",
    "2020,2021-12-31",
    "minutely",
    "semi-annually",
    "mon,wed..fri",
    "fri..mon",
    "MON",
    "monDay",
    "mon,tue..wednesday,fri..sat",
    "02:30",
  ])("accepts %j", (e) => expect(checkPveCalendarEvent(e)).toEqual({ ok: true }));

  // "24:00" is NOT among them: without a valid hour, the grammar reads it as minute 24, second 0. The
  // schema also asks systemd's grammar, which refuses it.
  it.each(["60:00", "0:60", "Daily", "noday", "02:30 extra", "10..4:00", "", "1-2-3-4", "mon 25:61"])(
    "refuses %j",
    (e) => expect(checkPveCalendarEvent(e).ok).toBe(false),
  );
});
