/** POSIX single-quoting: exact for every byte except NUL, which no argument or environment variable can hold. */
export const shellQuote = (value: string): string => {
  if (value.includes("\0")) throw new Error("a value with a NUL byte cannot be passed to a command");
  return `'${value.replace(/'/g, `'\\''`)}'`;
};
