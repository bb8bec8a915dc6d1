/**
 * The calendar-event parser against proxmox-time's own test vectors (proxmox/proxmox-rs f3305009,
 * proxmox-time/src/test.rs test_compute_next_event and test_calendar_event_weekday; the doc examples
 * of src/calendar_event.rs), plus strings the upstream grammar rejects.
 */
import {
  calendarEventProblem,
  longestGapSeconds,
  nextEvent,
  parseCalendarEvent,
} from "../../model/pbs-calendar";

const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;
const THURSDAY_00_00 = 0;
const THURSDAY_15_00 = 15 * HOUR;
const JUL_31_2020 = 1596153600;
const DEC_31_2020 = 1609372800;

/** test.rs test_value: parses "<v> UTC" and expects the next event after `last`. */
function next(v: string, last: number): number | undefined {
  const p = parseCalendarEvent(`${v} UTC`);
  if (!p.ok) throw new Error(`parsing '${v}' failed - ${p.error}`);
  return nextEvent(p.event, last);
}

describe("calendar events (proxmox-time src/test.rs vectors)", () => {
  it.each<[string, number, number]>([
    ["0", THURSDAY_00_00, THURSDAY_00_00 + HOUR],
    ["*", THURSDAY_00_00, THURSDAY_00_00 + MIN],
    ["*:0", THURSDAY_00_00, THURSDAY_00_00 + HOUR],
    ["*:*", THURSDAY_00_00, THURSDAY_00_00 + MIN],
    ["*:*:*", THURSDAY_00_00, THURSDAY_00_00 + 1],
    ["*:3:5", THURSDAY_00_00, THURSDAY_00_00 + 3 * MIN + 5],
    ["mon *:*", THURSDAY_00_00, THURSDAY_00_00 + 4 * DAY],
    ["mon 2:*", THURSDAY_00_00, THURSDAY_00_00 + 4 * DAY + 2 * HOUR],
    ["mon 2:50", THURSDAY_00_00, THURSDAY_00_00 + 4 * DAY + 2 * HOUR + 50 * MIN],
    ["tue", THURSDAY_00_00, THURSDAY_00_00 + 5 * DAY],
    ["wed", THURSDAY_00_00, THURSDAY_00_00 + 6 * DAY],
    ["thu", THURSDAY_00_00, THURSDAY_00_00 + 7 * DAY],
    ["fri", THURSDAY_00_00, THURSDAY_00_00 + 1 * DAY],
    ["sat", THURSDAY_00_00, THURSDAY_00_00 + 2 * DAY],
    ["sun", THURSDAY_00_00, THURSDAY_00_00 + 3 * DAY],
    ["4..10/2:0", THURSDAY_00_00, THURSDAY_00_00 + 4 * HOUR],
    ["4..10/2:0", THURSDAY_00_00 + 5 * HOUR, THURSDAY_00_00 + 6 * HOUR],
    ["4..10/2:0", THURSDAY_00_00 + 11 * HOUR, THURSDAY_00_00 + 1 * DAY + 4 * HOUR],
    ["5,10:4,8", THURSDAY_00_00, THURSDAY_00_00 + 5 * HOUR + 4 * MIN],
    ["10,5:8,4", THURSDAY_00_00, THURSDAY_00_00 + 5 * HOUR + 4 * MIN],
    ["6,4..10:23,5/5", THURSDAY_00_00, THURSDAY_00_00 + 4 * HOUR + 5 * MIN],
    ["4..10,6:5/5,23", THURSDAY_00_00, THURSDAY_00_00 + 4 * HOUR + 5 * MIN],
    ["sat", JUL_31_2020, JUL_31_2020 + 1 * DAY],
    ["sun", JUL_31_2020, JUL_31_2020 + 2 * DAY],
    ["mon", JUL_31_2020, JUL_31_2020 + 3 * DAY],
    ["fri", JUL_31_2020, JUL_31_2020 + 7 * DAY],
    ["fri", DEC_31_2020, DEC_31_2020 + 1 * DAY],
    ["thu", DEC_31_2020, DEC_31_2020 + 7 * DAY],
    ["daily", THURSDAY_00_00, THURSDAY_00_00 + DAY],
    ["daily", THURSDAY_00_00 + 1, THURSDAY_00_00 + DAY],
    ["1:0", THURSDAY_15_00, THURSDAY_00_00 + DAY + HOUR],
    ["2020-07-31", 0, JUL_31_2020],
    ["02-28", 0, (31 + 27) * DAY],
    ["02-29", 0, 2 * 365 * DAY + (31 + 28) * DAY],
    ["1965/5-01-01", -1, THURSDAY_00_00],
    ["2020-7..9-2/2", JUL_31_2020, JUL_31_2020 + 2 * DAY],
    ["2020,2021-12-31", JUL_31_2020, DEC_31_2020],
    ["minutely", THURSDAY_00_00, THURSDAY_00_00 + MIN],
    ["hourly", THURSDAY_00_00, THURSDAY_00_00 + HOUR],
    ["weekly", THURSDAY_00_00, THURSDAY_00_00 + 4 * DAY],
    ["monthly", 0, 31 * DAY],
    ["quarterly", 0, (31 + 28 + 31) * DAY],
    ["semiannually", 0, (31 + 28 + 31 + 30 + 31 + 30) * DAY],
    ["semi-annually", 0, (31 + 28 + 31 + 30 + 31 + 30) * DAY],
    ["yearly", 0, 365 * DAY],
    ["annually", 0, 365 * DAY],
  ])("%s after %d is %d", (v, last, expected) => {
    expect(next(v, last)).toBe(expected);
  });

  it("repeats 5/2:0 and *:* like the upstream loops", () => {
    let n = next("5/2:0", THURSDAY_00_00)!;
    for (const h of [7, 9, 11]) {
      n = next("5/2:0", n)!;
      expect(n).toBe(h * HOUR);
    }
    n = THURSDAY_00_00;
    for (let i = 1; i < 100; i++) {
      n = next("*:0", n)!;
      expect(n).toBe(i * HOUR);
    }
    n = THURSDAY_15_00;
    for (let i = 1; i < 100; i++) {
      n = next("1:0", n)!;
      expect(n).toBe(i * DAY + HOUR);
    }
  });

  it.each(["2021-02-29", "02-30"])("%s never comes (test_never)", (v) => {
    expect(next(v, 0)).toBeUndefined();
  });

  it.each([
    "mon,wed..fri",
    "fri..mon",
    "mon",
    "MON",
    "monDay",
    "Tuesday",
    "mon,tue..wednesday,fri..sat",
    "daily UTC",
    "mon..fri *:00 UTC",
    "2020-07-31 12:00 UTC",
    "Sun *-*-* 05:00:00",
    "*-*-01 04:00",
    "sat 03:30",
    "02:30",
  ])("accepts %s", (v) => {
    expect(calendarEventProblem(v)).toBeUndefined();
  });

  it.each([
    ["not valid!", /unable to parse calendar event/],
    ["Daily", /weekday/],
    ["daily 02:00", /weekday/],
    ["02:60", /calendar event/],
    ["10..5:00", /calendar event/],
    ["*/0", /calendar event/],
    ["mond", /weekday/],
    ["", /date or time specification/],
    [" daily", /calendar event/],
    ["daily,", /weekday/],
    ["2020-13-01", /calendar event/],
  ])("rejects %j", (v, why) => {
    expect(calendarEventProblem(v)).toMatch(why);
  });

  it("reads 24:00 as minute 24 of every hour, as the upstream grammar does (the hour must be below 24)", () => {
    expect(calendarEventProblem("24:00")).toBeUndefined();
    expect(next("24:00", THURSDAY_00_00)).toBe(24 * MIN);
    expect(next("24:00", 24 * MIN)).toBe(HOUR + 24 * MIN);
  });

  it("measures the longest gap between runs", () => {
    expect(longestGapSeconds("daily")).toBe(DAY);
    expect(longestGapSeconds("02:30")).toBe(DAY);
    expect(longestGapSeconds("sat 03:30")).toBe(7 * DAY);
    expect(longestGapSeconds("mon,thu 04:00")).toBe(4 * DAY);
    expect(longestGapSeconds("monthly")).toBe(31 * DAY);
    expect(longestGapSeconds("*:0/15")).toBe(15 * MIN);
    expect(longestGapSeconds("2020-07-31")).toBeUndefined();
    expect(longestGapSeconds("02-30")).toBeUndefined();
  });
});
