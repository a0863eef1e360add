import { paramEnvName } from '@drydock/core/job-data';
import { paramText, REPRODUCE_INTERPRETERS, type ReproduceInput, reproducePlan } from './reproduce-input.ts';

/** `value` as one POSIX sh word: single quotes keep everything (`$()`, backticks, newlines) but a quote, which closes, escapes and reopens. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The variables the agent keeps from its own environment for a script (INHERITED_ENV in agent/src/script-runner.ts). */
const INHERITED = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];
const BASH_READONLY = ['BASHOPTS', 'SHELLOPTS', 'BASH_VERSINFO', 'EUID', 'PPID', 'UID'];

// A JSON string from an environment variable, in POSIX awk: a secret goes into the request body without ever being
// on a command line. Bytes are kept as they are (LC_ALL=C); quotes, backslashes and control characters are escaped.
const JSON_STRING_FUNCTION = String.raw`json_string() {
  LC_ALL=C awk -v name="$1" 'BEGIN {
    for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\u%04x", i)
    esc[sprintf("%c", 127)] = "\\u007f"
    esc["\""] = "\\\""
    esc["\\"] = "\\\\"
    s = ENVIRON[name]
    printf "\""
    while (match(s, /[[:cntrl:]"\\]/)) {
      printf "%s%s", substr(s, 1, RSTART - 1), esc[substr(s, RSTART, 1)]
      s = substr(s, RSTART + 1)
    }
    printf "%s\"", s
  }'
}`;

/**
 * `reproduce.sh`: re-runs the run's version with its parameters through Drydock's API (`api [HOST]`, with curl) or
 * on this machine (`local`), passing parameters exactly as the agent does. Secret values are not in it: they are
 * read from `DRYDOCK_PARAM_<NAME>`, and the script stops before doing anything when one is not set.
 */
export function reproduceShellScript(input: ReproduceInput): string {
  const plan = reproducePlan(input);
  const { run } = input;
  const what = run.source === 'script' ? `script ${run.entryId} at version ${run.version}` : `action ${run.entryId} (its current revision)`;
  const secretVars = plan.secrets.map(paramEnvName);
  const header = [
    `# Reproduces Drydock run ${run.id}: ${what}, first run on host ${run.hostId}, with the same parameters.`,
    '#',
    '#   sh reproduce.sh api [HOST]   starts it through the Drydock API on HOST (default: the same host). Reads DRYDOCK_URL',
    `#                                (default: ${input.apiUrl}) and DRYDOCK_TOKEN when your Drydock asks for a token.`,
    '#   sh reproduce.sh local        runs it here as the agent runs it: a fresh working directory, the agent\'s environment,',
    '#                                every parameter as DRYDOCK_PARAM_<NAME> and the non-secret ones as --name=value.',
    '#',
    secretVars.length > 0
      ? `# The bundle holds no secret values: export ${secretVars.join(', ')} first.`
      : '# The run had no secret parameters.',
  ];
  const lines: string[] = [
    '#!/bin/sh',
    ...header,
    'set -eu',
    '',
    'usage() {',
    `  sed -n '2,${header.length + 1}p' "$0" | sed 's/^# \\{0,1\\}//' >&2`,
    '  exit 2',
    '}',
    '',
    'require_secrets() {',
    "  reproduce_missing=''",
    ...secretVars.map((name) => `  [ -n "\${${name}+set}" ] || reproduce_missing="$reproduce_missing ${name}"`),
    '  if [ -n "$reproduce_missing" ]; then',
    "    printf 'reproduce.sh: the bundle holds no secret values; set these variables first:%s\\n' \"$reproduce_missing\" >&2",
    '    exit 2',
    '  fi',
    '}',
    '',
    JSON_STRING_FUNCTION,
    '',
    'run_api() {',
    `  reproduce_host=\${1:-${shQuote(run.hostId)}}`,
    '  require_secrets',
    `  reproduce_url=\${DRYDOCK_URL:-${shQuote(input.apiUrl)}}`,
    '  reproduce_url=${reproduce_url%/}',
    "  command -v curl >/dev/null 2>&1 || { echo 'reproduce.sh: api needs curl on PATH' >&2; exit 2; }",
    '  reproduce_body=$(',
    `    printf '%s' ${shQuote(`${plan.bodyHead},"hostId":`)}`,
    '    DRYDOCK_REPRODUCE_HOST=$reproduce_host json_string DRYDOCK_REPRODUCE_HOST',
    `    printf '%s' ${shQuote(`,"params":{${plan.paramsJson}`)}`,
    ...plan.secrets.flatMap((name, i) => [
      `    printf '%s' ${shQuote(`${i === 0 && plan.paramsJson === '' ? '' : ','}${JSON.stringify(name)}:`)}`,
      `    json_string ${paramEnvName(name)}`,
    ]),
    "    printf '}}'",
    '  )',
    '  # The token goes to curl through a file descriptor, not its command line, where ps would show it.',
    '  if [ -n "${DRYDOCK_TOKEN:-}" ]; then',
    `    reproduce_answer=$(printf '%s' "$reproduce_body" | curl -sS -X POST -H 'content-type: application/json' -H @/dev/fd/3 --data-binary @- -w '\\n%{http_code}' "$reproduce_url/api/v1/runs" 3<<EOF`,
    'Authorization: Bearer $DRYDOCK_TOKEN',
    'EOF',
    '    )',
    '  else',
    `    reproduce_answer=$(printf '%s' "$reproduce_body" | curl -sS -X POST -H 'content-type: application/json' --data-binary @- -w '\\n%{http_code}' "$reproduce_url/api/v1/runs")`,
    '  fi',
    "  reproduce_status=$(printf '%s\\n' \"$reproduce_answer\" | tail -n 1)",
    "  reproduce_answer=$(printf '%s\\n' \"$reproduce_answer\" | sed '$d')",
    '  if [ "$reproduce_status" != 201 ]; then',
    "    printf 'reproduce.sh: Drydock at %s answered HTTP %s: %s\\n' \"$reproduce_url\" \"$reproduce_status\" \"$reproduce_answer\" >&2",
    '    exit 1',
    '  fi',
    "  printf '%s\\n' \"$reproduce_answer\"",
    '}',
    '',
    'run_local() {',
  ];
  const local = plan.local;
  if (local.kind === 'none') {
    lines.push(`  printf '%s\\n' ${shQuote(`reproduce.sh: ${local.reason}`)} >&2`, '  exit 2');
  } else {
    // Bash's read-only variables cannot be unset; they are its own, not the user's.
    const keep = ['', ...INHERITED, ...secretVars, ...BASH_READONLY, ''].join(' ');
    lines.push(
      '  require_secrets',
      '  reproduce_bundle=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)',
      '  reproduce_work=$(mktemp -d "${TMPDIR:-/tmp}/drydock-reproduce.XXXXXX")',
    );
    let exec: string[];
    if (local.kind === 'script') {
      const interpreter = REPRODUCE_INTERPRETERS.posix[local.interpreter];
      const file = `script${interpreter.extension}`;
      lines.push(
        `  cp -- "$reproduce_bundle"/${shQuote(local.scriptFile)} "$reproduce_work/${file}"`,
        `  chmod 700 "$reproduce_work/${file}"`,
      );
      exec = [interpreter.command, ...interpreter.args].map(shQuote).concat(`"$reproduce_work/${file}"`, ...local.argv.map(shQuote));
    } else {
      exec = local.words.map(shQuote);
    }
    lines.push(
      "  printf 'reproduce.sh: running in %s\\n' \"$reproduce_work\" >&2",
      '  cd "$reproduce_work"',
      '  # The agent starts scripts with a few of its own variables only: every other one is unset here.',
      `  reproduce_keep=${shQuote(keep)}`,
      '  set -f',
      "  for reproduce_name in $(awk 'BEGIN { for (k in ENVIRON) if (k ~ /^[A-Za-z_][A-Za-z0-9_]*$/) print k }'); do",
      '    case $reproduce_keep in *" $reproduce_name "*) ;; *) unset "$reproduce_name" ;; esac',
      '  done',
      '  set +f',
      ...plan.runVariables.map(([name, value]) => `  ${name}=${shQuote(value)}; export ${name}`),
      ...plan.values.map(([name, value]) => `  ${paramEnvName(name)}=${shQuote(paramText(value))}; export ${paramEnvName(name)}`),
      `  exec ${exec.join(' ')}`,
    );
  }
  lines.push(
    '}',
    '',
    'case ${1:-} in',
    '  api) shift; run_api "$@" ;;',
    '  local) run_local ;;',
    '  *) usage ;;',
    'esac',
    '',
  );
  return lines.join('\n');
}
