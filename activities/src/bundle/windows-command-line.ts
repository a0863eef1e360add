/**
 * One argument as Windows programs split a command line (the Microsoft C runtime's rules, CommandLineToArgvW), quoted
 * the way Node's child_process.spawn quotes it on Windows (libuv's quote_cmd_arg): a Windows agent started the
 * script with exactly this text, and reproduce.ps1 hands the same to ProcessStartInfo.Arguments.
 */
export function windowsArgument(arg: string): string {
  if (arg === '') return '""';
  if (!/[ \t"]/.test(arg)) return arg;
  if (!/["\\]/.test(arg)) return `"${arg}"`;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
    } else if (ch === '"') {
      // Backslashes before a quote are doubled, and one more escapes the quote itself.
      out += `${'\\'.repeat(backslashes * 2 + 1)}"`;
      backslashes = 0;
    } else {
      out += '\\'.repeat(backslashes) + ch;
      backslashes = 0;
    }
  }
  // Backslashes before the closing quote are doubled, so it stays a closing quote.
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

export function windowsCommandLine(args: readonly string[]): string {
  return args.map(windowsArgument).join(' ');
}
