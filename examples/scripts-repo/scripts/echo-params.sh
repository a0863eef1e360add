#!/usr/bin/env bash
set -euo pipefail
printf 'message=%s\n' "${DRYDOCK_PARAM_MESSAGE}"
printf 'notes=%s\n' "${DRYDOCK_PARAM_NOTES-}"
printf 'count=%s ratio=%s verbose=%s level=%s\n' "${DRYDOCK_PARAM_COUNT}" "${DRYDOCK_PARAM_RATIO}" "${DRYDOCK_PARAM_VERBOSE}" "${DRYDOCK_PARAM_LEVEL}"
printf 'argc=%s\n' "$#"
for arg in "$@"; do printf 'arg=%s\n' "$arg"; done
if [ -n "${DRYDOCK_PARAM_TOKEN-}" ]; then
  echo "token has ${#DRYDOCK_PARAM_TOKEN} characters; echoing it is masked: ${DRYDOCK_PARAM_TOKEN}"
fi
echo "to stderr" >&2
