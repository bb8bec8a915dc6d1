import { MAX_DESCRIPTION_BYTES } from "../../model/opnsense-names";

// The naming rules live in the model, which checks every derived name against them with its config path.
export {
  aliasName,
  PRIVATE_ALIAS,
  TUNNEL_ALIAS,
  portAliasEntries,
  portAliasName,
} from "../../model/opnsense-names";

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(text: string, max: number): string {
  let out = "";
  let used = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, "utf8");
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * Alias descriptions: letters, digits, whitespace and . - , _ (and non-ASCII), cut to the 255 bytes of
 * Base/FieldTypes/DescriptionField.php (a byte limit: its regex has no `u` flag).
 */
export const aliasDescription = (text: string): string =>
  truncateBytes(
    text
      .replace(/[^\t 0-9a-zA-Z.\-,_\u00A0-\uFFFF]/g, " ")
      .replace(/ {2,}/g, " ")
      .trim(),
    MAX_DESCRIPTION_BYTES,
  ).trim() || "homelab";
