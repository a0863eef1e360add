#!/usr/bin/env bash
set -euo pipefail
for var in NAME NOTES REPLICAS RATIO DRY_RUN TIER TARGET PEERS WINDOW; do
  name="DRYDOCK_PARAM_${var}"
  printf '%s=%s\n' "${var,,}" "${!name-}"
done
if [ -n "${DRYDOCK_PARAM_PASSWORD-}" ]; then echo "password: ${#DRYDOCK_PARAM_PASSWORD} characters"; fi
echo "all parameters received"
