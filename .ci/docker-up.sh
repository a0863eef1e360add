#!/usr/bin/env bash
# A running Docker engine on /var/run/docker.sock, for the Docker runner and its tests: installs Debian's
# docker.io (and busybox-static, which the tests build their image from) if missing, starts dockerd in the
# background if it is not answering, and waits until it does. Idempotent; safe to run concurrently.
# No registry is reachable from CI machines, so nothing here pulls an image.
set -euo pipefail

LOG="${DOCKERD_LOG:-/var/log/drydock-dockerd.log}"
WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"
SOCKET=/var/run/docker.sock
# Debian's client, which matches the engine; a newer client elsewhere on PATH also works.
docker_cli() { if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi; }
engine_up() { [ -S "$SOCKET" ] && docker_cli info >/dev/null 2>&1; }

if [ "$(id -u)" -ne 0 ]; then
  if engine_up; then exit 0; fi
  echo "docker-up: the Docker engine is not running, and starting it needs root (run: sudo $0)" >&2
  exit 1
fi

exec 9>/run/drydock-docker-up.lock
flock 9

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]; }
missing=()
installed docker.io || missing+=(docker.io)
installed busybox-static || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  echo "docker-up: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if engine_up; then
  exit 0
fi

failed() {
  echo "docker-up: $1; the end of $LOG:" >&2
  tail -n 30 "$LOG" >&2 || true
  exit 1
}
start_dockerd() {
  echo "docker-up: starting dockerd (log: $LOG)"
  # Its own session, so it outlives this script and the test run; fd 9 closed so it does not hold the lock.
  setsid /usr/sbin/dockerd >>"$LOG" 2>&1 </dev/null 9>&- &
  started=$!
}

# A dockerd that is starting up, or shutting down, holds the pid file: wait for it to answer or to go.
started=
waiting_for=$(cat /var/run/docker.pid 2>/dev/null || true)
if [ -n "$waiting_for" ] && kill -0 "$waiting_for" 2>/dev/null; then
  echo "docker-up: dockerd (pid $waiting_for) is running but not answering; waiting"
else
  start_dockerd
fi

for _ in $(seq 1 "$WAIT_SECONDS"); do
  if engine_up; then
    echo "docker-up: engine $(docker_cli version --format '{{.Server.Version}}') ready on $SOCKET"
    exit 0
  fi
  if [ -n "$started" ]; then
    kill -0 "$started" 2>/dev/null || failed "dockerd exited while starting"
  elif ! kill -0 "$waiting_for" 2>/dev/null; then
    start_dockerd
  fi
  sleep 1
done
failed "dockerd did not answer within ${WAIT_SECONDS} s"
