/** Text for one cell of a Markdown table: a `|` would end the cell and a line break the row. */
export const markdownCell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
