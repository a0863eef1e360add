/**
 * The fixed program the remote login shell runs, and the framing that feeds it a job over stdin.
 *
 * SSH `exec` hands its command string to the remote login shell, so that string is this constant and
 * nothing else: script, argv and environment travel as data on the channel's stdin, one record a line,
 * every value escaped to printable ASCII (`\0ooo` octal escapes that `printf %b` decodes), so no shell
 * ever parses a value. The wrapper is one line without `'` or `\`, so any login shell passes it on intact.
 *
 *   drydock-ssh 1          framing version
 *   W <base>               create a private temp dir under <base> (mktemp -d, mode 700)
 *   E <NAME> <value>       export NAME=value (NAME must start with DRYDOCK_)
 *   S <extension>          start the script file <dir>/script<extension>
 *   L <chunk>              append a chunk to the script file
 *   A <word>               append a word to argv
 *   P                      append the script file's path to argv
 *   K                      keep the temp dir after the script ends (for capture); its path is printed
 *   G                      run argv
 *
 * After `G` the wrapper prints DIR and the temp dir's path on stdout when asked to keep it, then READY on
 * stdout and stderr (what came before them is the login shell's),
 * starts argv in a new session (`setsid`, else perl's setpgrp) and waits. The rest of stdin is a
 * lifeline: when it closes (the client asks to stop, or the connection drops) the process group gets
 * SIGTERM, then SIGKILL after a grace period. When the script ends, the group is killed (background
 * children would hold the channel open), the temp dir removed unless kept, and a death by signal re-raised so
 * sshd reports it as `exit-signal`.
 */

export const READY_MARKER = 'DRYDOCK-SSH READY';
export const FAILED_MARKER = 'DRYDOCK-SSH FAILED ';
export const DIR_MARKER = 'DRYDOCK-SSH DIR ';
export const KILL_GRACE_SECONDS = 3;

const WRAPPER_LINES = [
  'um=$(umask); umask 077;',
  'exec 3<&0;',
  'd=; f=; pid=; wpid=; keep=; kk=;',
  `fail() { printf "%s%s" "${FAILED_MARKER}" "$1" >&2; echo >&2; exit 125; };`,
  'dec() { v=$(printf "%b" "$1"; echo x); v=${v%x}; };',
  'cleanup() {',
  '  if [ -n "$wpid" ]; then kill "$wpid" 2>/dev/null; fi;',
  '  if [ -n "$pid" ]; then kill -s KILL -- "-$pid" 2>/dev/null; kill -s KILL "$pid" 2>/dev/null; fi;',
  '  if [ -n "$d" ] && [ -z "$keep" ]; then rm -rf "$d"; fi;',
  '};',
  'trap cleanup EXIT;',
  'trap "exit 129" HUP; trap "exit 130" INT; trap "exit 143" TERM;',
  'IFS= read -r l || fail "no job arrived on stdin";',
  'if [ "$l" = "drydock-ssh 1" ]; then :; else fail "unknown job framing; the client and this wrapper disagree"; fi;',
  'IFS= read -r l || fail "no work directory arrived";',
  'case $l in "W "*) dec "${l#W }" ;; *) fail "the work directory record is missing" ;; esac;',
  'd=$(mktemp -d "$v/drydock-ssh.XXXXXXXX") || { d=; fail "could not create a private directory in $v"; };',
  'chmod 700 "$d" || fail "could not make $d private";',
  'set --;',
  'while IFS= read -r l; do',
  '  case $l in',
  '    G) break ;;',
  '    K) kk=1 ;;',
  '    "A "*) dec "${l#A }"; set -- "$@" "$v" ;;',
  '    P) set -- "$@" "$f" ;;',
  '    "L "*) dec "${l#L }"; printf "%s" "$v" >> "$f" || fail "could not write $f" ;;',
  '    "S "*) case ${l#S } in .sh|.py|.ps1|.mjs) f="$d/script${l#S }"; : > "$f" || fail "could not write $f" ;; *) fail "refused script extension" ;; esac ;;',
  '    "E "*) r=${l#E }; n=${r%% *}; dec "${r#* }"; case $n in DRYDOCK_*) export "$n=$v" || fail "refused variable $n" ;; *) fail "refused variable $n" ;; esac ;;',
  '    *) fail "unknown job record" ;;',
  '  esac;',
  'done;',
  'if [ "$l" = G ]; then :; else fail "the job ended early"; fi;',
  'if [ -n "$f" ]; then chmod 700 "$f" || fail "could not make $f executable"; fi;',
  'if [ $# -eq 0 ]; then fail "nothing to run"; fi;',
  'command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed or not on the PATH of $(id -un 2>/dev/null)";',
  'cd "$d" || fail "could not enter $d";',
  'umask "$um";',
  `keep=$kk; if [ -n "$keep" ]; then echo "${DIR_MARKER}$d"; fi;`,
  `echo "${READY_MARKER}"; echo "${READY_MARKER}" >&2;`,
  'if command -v setsid >/dev/null 2>&1; then setsid "$@" </dev/null 3<&- &',
  'elif command -v perl >/dev/null 2>&1; then perl -e "setpgrp(0, 0); exec {(@ARGV)[0]} @ARGV; exit 127" "$@" </dev/null 3<&- &',
  'else "$@" </dev/null 3<&- & fi;',
  'pid=$!;',
  '( while IFS= read -r l; do :; done;',
  '  kill -s TERM -- "-$pid" 2>/dev/null || kill -s TERM "$pid" 2>/dev/null;',
  `  sleep ${KILL_GRACE_SECONDS}; kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL "$pid" 2>/dev/null ) <&3 >/dev/null 2>&1 &`,
  'wpid=$!;',
  // From here the wrapper writes nothing: no job-status line of the shell's in the script's stderr, no SIGPIPE once the channel is gone.
  'exec 3<&- >/dev/null 2>&1;',
  'wait "$pid"; rc=$?;',
  'cleanup; pid=; wpid=; d=;',
  'trap - EXIT HUP INT TERM;',
  'if [ "$rc" -gt 128 ]; then s=$(kill -l "$rc" 2>/dev/null) && kill -s "$s" $$; fi;',
  'exit "$rc"',
];

/** The wrapper, a POSIX sh program on one line. */
export const WRAPPER_SCRIPT = WRAPPER_LINES.map((line) => line.trim()).join(' ');

/** The whole command string sent with `exec`: a constant, whatever the job. */
export const REMOTE_COMMAND = `exec /bin/sh -c '${WRAPPER_SCRIPT}' drydock-ssh`;

const SAFE_BYTE = /^[A-Za-z0-9_.,:/=@+-]$/;
const CHUNK = 2048;

/** What each byte becomes: itself when printable and safe, `\0ooo` otherwise. */
const ESCAPED = Array.from({ length: 256 }, (_, byte) => {
  const ch = String.fromCharCode(byte);
  return SAFE_BYTE.test(ch) ? ch : `\\0${byte.toString(8).padStart(3, '0')}`;
});

/** Escapes bytes outside a small printable set as `\0ooo`, which `printf %b` turns back into the byte. */
export function escapeValue(value: string | Buffer): string {
  let out = '';
  for (const byte of typeof value === 'string' ? Buffer.from(value, 'utf8') : value) out += ESCAPED[byte];
  return out;
}

export interface RemoteInvocation {
  workDirBase: string;
  env: Record<string, string>;
  /** Keep the temp dir (the script's cwd) once the script has ended, so its files can be captured; the caller removes it. */
  keepWorkDir?: boolean;
  /** Present for a script: its extension and content; `null` in argv marks where its path goes. */
  script: { extension: '.sh' | '.py' | '.ps1' | '.mjs'; content: string } | null;
  argv: (string | null)[];
}

export const ENV_NAME = /^DRYDOCK_[A-Z0-9_]+$/;

/** The stdin the wrapper reads; callers have checked names against ENV_NAME and values for NUL bytes. */
export function* invocationRecords(invocation: RemoteInvocation): Generator<string> {
  yield 'drydock-ssh 1\n';
  yield `W ${escapeValue(invocation.workDirBase)}\n`;
  for (const [name, value] of Object.entries(invocation.env)) yield `E ${name} ${escapeValue(value)}\n`;
  if (invocation.script) {
    yield `S ${invocation.script.extension}\n`;
    const content = Buffer.from(invocation.script.content, 'utf8');
    for (let at = 0; at < content.length; at += CHUNK) yield `L ${escapeValue(content.subarray(at, at + CHUNK))}\n`;
  }
  for (const word of invocation.argv) yield word === null ? 'P\n' : `A ${escapeValue(word)}\n`;
  if (invocation.keepWorkDir) yield 'K\n';
  yield 'G\n';
}

export function encodeInvocation(invocation: RemoteInvocation): string {
  return [...invocationRecords(invocation)].join('');
}
