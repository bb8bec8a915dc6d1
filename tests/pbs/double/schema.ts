/**
 * Parameter verification of the PBS API, for the test double. Follows proxmox/proxmox-rs f3305009:
 * - proxmox-schema src/schema.rs: StringSchema::check_length/check_constraints ("value must be at
 *   least N characters long", "value may only be N characters long", "value does not match the regex
 *   pattern", "value 'x' is not defined in the enumeration."), IntegerSchema ("value must have a
 *   minimum value of N (got M)"), "Expected string/integer/boolean value.", ArraySchema item errors as
 *   `<key>/[i]`, ObjectSchema::verify_json ("schema does not allow additional properties", "property is
 *   missing and it is not optional"), parse_parameter_strings for query/form input ("schema does not
 *   allow additional properties.", "parameter is missing and it is not optional.", parse_boolean
 *   1|on|yes|true / 0|off|no|false), and ParameterError's Display ("parameter verification failed -
 *   'key': msg" for one error, a "- 'key': msg" list for several).
 * - proxmox-rest-server src/rest.rs get_request_parameters: application/json bodies are verified with
 *   verify_json (URI parameters merged in first); form bodies and query strings are parsed as strings.
 * The PBS types (regexes, lengths, ranges) are in pbs-types.ts.
 */
export type Prop =
  | {
      type: "string";
      optional?: boolean;
      min?: number;
      max?: number;
      pattern?: RegExp;
      enum?: readonly string[];
      /** ApiStringFormat::VerifyFn / PropertyString: undefined when valid, else the error text. */
      verify?: (s: string) => string | undefined;
    }
  | { type: "integer"; optional?: boolean; min?: number; max?: number }
  | { type: "boolean"; optional?: boolean }
  | { type: "array"; optional?: boolean; items: Prop; min?: number; max?: number };

export type ObjectSchema = Record<string, Prop>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** ParameterError's Display (proxmox-schema src/schema.rs). */
export function parameterError(errors: [string, string][]): ApiError {
  const text =
    errors.length === 1
      ? `parameter verification failed - '${errors[0]![0]}': ${errors[0]![1]}`
      : `parameter verification failed:\n${errors.map(([k, e]) => `- '${k}': ${e}`).join("\n")}`;
  return new ApiError(400, text.trim());
}

/** param_bail!(field, msg): a one-entry ParameterError, answered with 400. */
export const paramBail = (field: string, message: string): ApiError => parameterError([[field, message]]);

function checkString(p: Extract<Prop, { type: "string" }>, s: string): string | undefined {
  const len = [...s].length;
  if (p.min !== undefined && len < p.min) return `value must be at least ${p.min} characters long`;
  if (p.max !== undefined && len > p.max) return `value may only be ${p.max} characters long`;
  if (p.pattern && !p.pattern.test(s)) return "value does not match the regex pattern";
  if (p.enum && !p.enum.includes(s)) return `value '${s}' is not defined in the enumeration.`;
  if (p.verify) return p.verify(s);
  return undefined;
}

function checkInteger(p: Extract<Prop, { type: "integer" }>, n: number): string | undefined {
  if (p.min !== undefined && n < p.min) return `value must have a minimum value of ${p.min} (got ${n})`;
  if (p.max !== undefined && n > p.max) return `value must have a maximum value of ${p.max} (got ${n})`;
  return undefined;
}

/** Verify one JSON value; returns [subkey, message] pairs (subkey "" = the value itself). */
function verifyJson(p: Prop, v: unknown): [string, string][] {
  switch (p.type) {
    case "string":
      if (typeof v !== "string") return [["", "Expected string value."]];
      return ((e) => (e ? [["", e]] : []))(checkString(p, v));
    case "integer":
      if (typeof v !== "number" || !Number.isInteger(v)) return [["", "Expected integer value."]];
      return ((e) => (e ? [["", e]] : []))(checkInteger(p, v));
    case "boolean":
      return typeof v === "boolean" ? [] : [["", "Expected boolean value."]];
    case "array": {
      if (!Array.isArray(v))
        return [
          [
            "",
            typeof v === "object" && v !== null
              ? "Expected array - got object."
              : "Expected array - got scalar value.",
          ],
        ];
      if (p.min !== undefined && v.length < p.min)
        return [["", `array must contain at least ${p.min} elements`]];
      if (p.max !== undefined && v.length > p.max) return [["", `array may only contain ${p.max} elements`]];
      for (let i = 0; i < v.length; i++) {
        const errs = verifyJson(p.items, v[i]);
        // ArraySchema::verify_json stops at the first bad item: param_bail!("[i]", err).
        if (errs.length > 0) return [[`[${i}]`, errs[0]![1]]];
      }
      return [];
    }
  }
}

/** parse_simple_value: a query/form string into the schema's type. */
function parseSimple(p: Prop, s: string): { value?: unknown; error?: string } {
  switch (p.type) {
    case "boolean": {
      const l = s.toLowerCase();
      if (["1", "on", "yes", "true"].includes(l)) return { value: true };
      if (["0", "off", "no", "false"].includes(l)) return { value: false };
      return { error: "Unable to parse boolean option." };
    }
    case "integer": {
      if (!/^[+-]?\d+$/.test(s.trim())) return { error: `invalid digit found in string` };
      const n = Number(s);
      const e = checkInteger(p, n);
      return e ? { error: e } : { value: n };
    }
    case "string": {
      const e = checkString(p, s);
      return e ? { error: e } : { value: s };
    }
    case "array":
      return { error: "expected array - type mismatch" };
  }
}

const joinKey = (key: string, sub: string) => (sub === "" ? key : `${key}/${sub}`);

/** ObjectSchema::verify_json for an application/json body. */
export function verifyJsonParams(schema: ObjectSchema, params: Record<string, unknown>): void {
  const errors: [string, string][] = [];
  for (const [k, v] of Object.entries(params)) {
    const p = schema[k];
    if (!p) errors.push([k, "schema does not allow additional properties"]);
    else if (v !== null) for (const [sub, e] of verifyJson(p, v)) errors.push([joinKey(k, sub), e]);
  }
  for (const [k, p] of Object.entries(schema))
    if (!p.optional && (params[k] === undefined || params[k] === null))
      errors.push([k, "property is missing and it is not optional"]);
  if (errors.length > 0) throw parameterError(errors);
}

/** parse_parameter_strings (test_required) for query strings and form bodies. */
export function parseStringParams(schema: ObjectSchema, list: [string, string][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const errors: [string, string][] = [];
  for (const [k, v] of list) {
    const p = schema[k];
    if (!p) {
      errors.push([k, "schema does not allow additional properties."]);
      continue;
    }
    if (p.type === "array") {
      const r = parseSimple(p.items, v);
      if (r.error) errors.push([k, r.error]);
      else ((out[k] ??= []) as unknown[]).push(r.value);
      continue;
    }
    const r = parseSimple(p, v);
    if (r.error) errors.push([k, r.error]);
    else if (out[k] !== undefined) errors.push([k, "duplicate parameter."]);
    else out[k] = r.value;
  }
  if (errors.length === 0)
    for (const [k, p] of Object.entries(schema))
      if (!p.optional && out[k] === undefined)
        errors.push([k, "parameter is missing and it is not optional."]);
  if (errors.length > 0) throw parameterError(errors);
  return out;
}

/** URI parameters merged into a JSON body with parse_simple_value (rest.rs get_request_parameters). */
export function mergeUriParams(
  schema: ObjectSchema,
  params: Record<string, unknown>,
  uri: Record<string, string>,
): Record<string, unknown> {
  const out = { ...params };
  for (const [k, v] of Object.entries(uri)) {
    const p = schema[k];
    if (!p) continue;
    const r = parseSimple(p, v);
    // A plain error there, not a ParameterError: `prop_schema.parse_simple_value(&v)?`.
    if (r.error) throw new ApiError(400, r.error);
    out[k] = r.value;
  }
  return out;
}
