import { BODY_READ_LIMIT } from '../operations/service-health.ts';
import { CONTAINS_READ_LIMIT } from '../operations/file-validation.ts';
import { APK_DATABASE, DPKG_FORMAT, INVENTORY_BUDGET_SECONDS, LOOKUP_TIMEOUT_SECONDS, OPENRC_RUNTIME_DIR, RPM_FORMAT, SYSTEMD_RUNTIME_DIR } from '../operations/inventory-answers.ts';

/**
 * The fixed POSIX sh programs that host operations and capture run on an SSH host. Each is sent as the script
 * of the remote wrapper (remote-wrapper.ts), so it reaches the host as data on stdin and runs in the wrapper's
 * private temp dir, in a process group that cancel and timeout kill. Its inputs are `DRYDOCK_OP_*` variables
 * the wrapper exports; no value is ever part of a program's text or of a command line.
 *
 * A program reports facts as lines `<tag> <key> <value>` on stdout, where the tag is a random word the client
 * chose for this run (`DRYDOCK_OP_TAG`), so no other output can pass for a fact. The client judges the facts
 * with the same code the agent uses.
 */

const SAY = `t=$DRYDOCK_OP_TAG
say() { printf '%s %s\\n' "$t" "$*"; }`;

/**
 * shell_command: checks the working directory and the program, then replaces itself with
 * `env -i PATH=… HOME=… LANG=… TZ=… <environment…> /bin/sh -c 'exec "$@"' drydock-op <argv…>`: the command gets
 * the host's PATH, HOME, LANG and TZ with the operation's own variables over them, as on an agent, and `sh -c`
 * runs argv[0] even when it holds a "=" (which env would take for a variable). argv arrives as the program's
 * arguments; `<tag> start` marks where the command's own output begins.
 */
export const SHELL_COMMAND_PROGRAM = `${SAY}
if [ -n "\${DRYDOCK_OP_CWD+x}" ]; then
  if [ ! -d "$DRYDOCK_OP_CWD" ]; then say nocwd; exit 125; fi
  cd "$DRYDOCK_OP_CWD" || { say nocwd; exit 125; }
fi
case $1 in
  */*) if [ ! -e "$1" ]; then say noprogram; exit 127; elif [ -d "$1" ] || [ ! -x "$1" ]; then say noexec; exit 126; fi ;;
  *) if ! command -v "$1" >/dev/null 2>&1; then say noprogram; exit 127; fi ;;
esac
c=$#
for n in PATH HOME LANG TZ; do
  eval "s=\\\${$n+x} v=\\\${$n-}"
  if [ -n "$s" ]; then set -- "$@" "$n=$v"; fi
done
k=\${DRYDOCK_OP_ENVS:-0}
case $k in ''|*[!0-9]*) k=0 ;; esac
i=0
while [ "$i" -lt "$k" ]; do
  eval "n=\\\${DRYDOCK_OP_ENV_NAME_$i-} v=\\\${DRYDOCK_OP_ENV_VALUE_$i-}"
  case $n in ''|[0-9]*|*[!A-Za-z0-9_]*) say badenv; exit 125 ;; esac
  set -- "$@" "$n=$v"
  i=$((i + 1))
done
set -- "$@" /bin/sh -c 'exec "$@"' drydock-op
j=0
while [ "$j" -lt "$c" ]; do set -- "$@" "$1"; shift; j=$((j + 1)); done
say start
exec env -i "$@"
`;

/**
 * file_validation: what stat(1) and test(1) say about DRYDOCK_OP_PATH as the SSH user (test -r/-w ask the
 * kernel, as the agent's access(2) does), and for each `contains:` text DRYDOCK_OP_NEEDLE_<i> whether the first
 * CONTAINS_READ_LIMIT bytes hold it (grep -F on bytes; the client refuses texts with a line break, which grep
 * would split into several patterns).
 */
export const FILE_VALIDATION_PROGRAM = `${SAY}
p=$DRYDOCK_OP_PATH
say user "$(id -u 2>/dev/null)" "$(id -un 2>/dev/null)"
if [ ! -e "$p" ]; then
  if [ -L "$p" ]; then say missing dangling; exit 0; fi
  e=$(LC_ALL=C ls -d -- "$p" 2>&1 >/dev/null)
  case $e in
    *"Not a directory"*) say missing notdir ;;
    *"Permission denied"*) say missing denied ;;
    *"No such file"*) say missing absent ;;
    *) say missing other "$e" ;;
  esac
  exit 0
fi
if ! s=$(LC_ALL=C stat -L -c '%F|%s|%Y|%a' -- "$p" 2>&1); then say missing other "$s"; exit 0; fi
say stat "$s"
if [ -r "$p" ]; then say readable yes; else say readable no; fi
if [ -w "$p" ]; then say writable yes; else say writable no; fi
n=\${DRYDOCK_OP_NEEDLES:-0}
case $n in ''|*[!0-9]*) n=0 ;; esac
if [ "$n" -gt 0 ] && [ -f "$p" ]; then
  if e=$(LC_ALL=C head -c 1 -- "$p" 2>&1 >/dev/null) && [ -z "$e" ]; then
    say length "$(head -c ${CONTAINS_READ_LIMIT + 1} -- "$p" | wc -c | tr -d ' ')"
    i=0
    while [ "$i" -lt "$n" ]; do
      eval "v=\\\${DRYDOCK_OP_NEEDLE_$i-}"
      if head -c ${CONTAINS_READ_LIMIT} -- "$p" | LC_ALL=C grep -q -a -F -e "$v"; then say found "$i" yes; else say found "$i" no; fi
      i=$((i + 1))
    done
  else
    say unreadable "$e"
  fi
fi
exit 0
`;

/**
 * service_health over HTTP: one request with curl from the host (so localhost is the host, and its resolver,
 * proxy variables and CA store apply), redirects not followed. Reports curl's exit code, its error line and the
 * connect error its verbose log names (curl's own line no longer says "refused"),
 * the response headers, and with DRYDOCK_OP_BODY the first BODY_READ_LIMIT + 1 bytes of the body in base64.
 */
export const HTTP_PROGRAM = `${SAY}
if ! command -v curl >/dev/null 2>&1; then say nocurl; exit 0; fi
set -- -sS -v -A drydock-operation -D ./headers --max-time "$DRYDOCK_OP_TIMEOUT"
if [ "$DRYDOCK_OP_METHOD" = HEAD ]; then set -- "$@" -I; fi
if [ -n "$DRYDOCK_OP_BODY" ]; then
  { curl "$@" -o - --url "$DRYDOCK_OP_URL" 2>./error; echo $? > ./rc; } | head -c ${BODY_READ_LIMIT + 1} > ./body
else
  curl "$@" -o /dev/null --url "$DRYDOCK_OP_URL" 2>./error; echo $? > ./rc
fi
say rc "$(cat ./rc)"
if [ -s ./error ]; then
  say error "$(grep '^curl: ' ./error | head -n 1)"
  say cause "$(grep -m 1 -o 'failed: .*' ./error)"
fi
if [ -f ./headers ]; then while IFS= read -r l || [ -n "$l" ]; do say header "$l"; done < ./headers; fi
if [ -n "$DRYDOCK_OP_BODY" ] && [ -f ./body ]; then
  if command -v base64 >/dev/null 2>&1; then base64 ./body | sed "s/^/$t body /"; say bodyend; else say nobase64; fi
fi
exit 0
`;

/** service_health of a systemd unit: `systemctl show` of its load and active state, on a host booted with systemd. */
export const SYSTEMD_PROGRAM = `${SAY}
if [ ! -d /run/systemd/system ]; then say nosystemd booted; exit 0; fi
if ! command -v systemctl >/dev/null 2>&1; then say nosystemd path; exit 0; fi
LC_ALL=C SYSTEMD_PAGER= systemctl show --no-pager --property=LoadState,ActiveState,SubState -- "$DRYDOCK_OP_UNIT" > ./show 2> ./error
say rc "$?"
while IFS= read -r l || [ -n "$l" ]; do say prop "$l"; done < ./show
if [ -s ./error ]; then say error "$(head -n 1 ./error)"; fi
exit 0
`;

/**
 * The packages DRYDOCK_OP_PACKAGE_<i> (DRYDOCK_OP_PACKAGES of them) and services DRYDOCK_OP_SERVICE_<i>: each
 * name is one argument of the argv inventory-answers.ts builds for the agent, run with `timeout` where it exists,
 * every tool the host has asked (dpkg-query, rpm, the apk database read by awk). Each answer goes back whole as
 * `pkg-out|pkg-err <i> <tool> <line>` and `pkg-rc <i> <tool> <code>` (`svc-…` for services), judged by the
 * agent's code; past INVENTORY_BUDGET_SECONDS the names left are `pkg-late <i>` / `svc-late <i>`.
 */
const INVENTORY = `to=; if command -v timeout >/dev/null 2>&1; then to=1; fi
look() { if [ -n "$to" ]; then env LC_ALL=C SYSTEMD_PAGER= timeout ${LOOKUP_TIMEOUT_SECONDS} "$@"; else env LC_ALL=C SYSTEMD_PAGER= "$@"; fi; }
now() { d=$(date +%s 2>/dev/null); case $d in ''|*[!0-9]*) echo 0 ;; *) echo "$d" ;; esac; }
t0=$(now)
late() { [ $(( $(now) - t0 )) -ge ${INVENTORY_BUDGET_SECONDS} ]; }
report() {
  while IFS= read -r l || [ -n "$l" ]; do say "$1-out" "$2" "$3" "$l"; done < ./out
  while IFS= read -r l || [ -n "$l" ]; do say "$1-err" "$2" "$3" "$l"; done < ./err
  say "$1-rc" "$2" "$3" "$4"
}
n=\${DRYDOCK_OP_PACKAGES:-0}
case $n in ''|*[!0-9]*) n=0 ;; esac
if [ "$n" -gt 0 ]; then
  m=
  if command -v dpkg-query >/dev/null 2>&1; then m="$m dpkg"; fi
  if command -v rpm >/dev/null 2>&1; then m="$m rpm"; fi
  if [ -r ${APK_DATABASE} ]; then m="$m apk"; fi
  say pkg-tools $m
  i=0
  while [ "$i" -lt "$n" ]; do
    eval "p=\\\${DRYDOCK_OP_PACKAGE_$i-}"
    if late; then say pkg-late "$i"; else
      for w in $m; do
        case $w in
          dpkg) look dpkg-query -W -f='${DPKG_FORMAT}' -- "$p" > ./out 2> ./err ;;
          rpm) look rpm -q --qf '${RPM_FORMAT}' "$p" > ./out 2> ./err ;;
          apk) env DRYDOCK_NAME="$p" awk 'BEGIN { n = ENVIRON["DRYDOCK_NAME"] } /^$/ { m = 0 } /^P:/ { m = (substr($0, 3) == n) } m && /^V:/ { print substr($0, 3); exit }' ${APK_DATABASE} > ./out 2> ./err ;;
        esac
        report pkg "$i" "$w" "$?"
      done
    fi
    i=$((i + 1))
  done
fi
n=\${DRYDOCK_OP_SERVICES:-0}
case $n in ''|*[!0-9]*) n=0 ;; esac
if [ "$n" -gt 0 ]; then
  g=
  if [ -d ${SYSTEMD_RUNTIME_DIR} ] && command -v systemctl >/dev/null 2>&1; then g=systemd
  elif [ -d ${OPENRC_RUNTIME_DIR} ] && command -v rc-service >/dev/null 2>&1; then g=openrc
  fi
  say svc-manager "$g"
  i=0
  while [ -n "$g" ] && [ "$i" -lt "$n" ]; do
    eval "s=\\\${DRYDOCK_OP_SERVICE_$i-}"
    if late; then say svc-late "$i"; else
      case $g in
        systemd) look systemctl show --no-pager -p LoadState -p ActiveState -- "$s" > ./out 2> ./err ;;
        openrc) look rc-service "$s" status > ./out 2> ./err ;;
      esac
      report svc "$i" "$g" "$?"
    fi
    i=$((i + 1))
  done
fi`;

/**
 * The environment snapshot: uname, os-release, /proc (uptime, load, CPUs, memory), df of DRYDOCK_OP_DISK,
 * `<DRYDOCK_OP_INTERPRETER> --version` within 5 s, the packages and services asked for (INVENTORY), and the
 * login session's variables (NUL-separated, base64, where env -0 and base64 exist, so a value with a line
 * break stays whole).
 */
export const SNAPSHOT_PROGRAM = `${SAY}
say kernel-name "$(uname -s 2>/dev/null)"
say kernel-release "$(uname -r 2>/dev/null)"
say kernel-version "$(uname -v 2>/dev/null)"
say machine "$(uname -m 2>/dev/null)"
say hostname "$(uname -n 2>/dev/null)"
for f in /etc/os-release /usr/lib/os-release; do
  if [ -r "$f" ]; then
    while IFS= read -r l || [ -n "$l" ]; do say os-release "$l"; done < "$f"
    break
  fi
done
if [ -r /proc/uptime ]; then say uptime "$(cat /proc/uptime)"; fi
if [ -r /proc/loadavg ]; then say loadavg "$(cat /proc/loadavg)"; fi
if [ -r /proc/cpuinfo ]; then
  say cpus "$(grep -c '^processor' /proc/cpuinfo)"
  say cpu-model "$(grep -m 1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')"
fi
if [ -r /proc/meminfo ]; then
  while IFS= read -r l; do case $l in MemTotal:*|MemAvailable:*|MemFree:*) say meminfo "$l" ;; esac; done < /proc/meminfo
fi
if [ -n "$DRYDOCK_OP_DISK" ]; then say df "$(LC_ALL=C df -P -k -- "$DRYDOCK_OP_DISK" 2>/dev/null | tail -n 1)"; fi
if [ -n "$DRYDOCK_OP_INTERPRETER" ] && command -v "$DRYDOCK_OP_INTERPRETER" >/dev/null 2>&1; then
  if command -v timeout >/dev/null 2>&1; then
    v=$(timeout 5 "$DRYDOCK_OP_INTERPRETER" --version 2>&1 </dev/null | head -n 1)
  else
    v=$("$DRYDOCK_OP_INTERPRETER" --version 2>&1 </dev/null | head -n 1)
  fi
  say interpreter "$v"
fi
${INVENTORY}
if env -0 >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then
  env -0 | base64 | sed "s/^/$t env0 /"
else
  env | sed "s/^/$t env /"
fi
exit 0
`;

/** Removes a work directory the wrapper kept for capture; anything but such a directory is left alone. */
export const REMOVE_WORK_DIR_PROGRAM = `${SAY}
case $DRYDOCK_OP_DIR in
  /*/drydock-ssh.*) rm -rf -- "$DRYDOCK_OP_DIR" && say removed ;;
  *) say refused ;;
esac
exit 0
`;
