#!/usr/bin/env bash
set -euo pipefail
mkdir -p out
{
  echo "capture demo report"
  echo "run: ${DRYDOCK_RUN_ID} attempt: ${DRYDOCK_ATTEMPT} host: ${DRYDOCK_HOST_ID}"
  echo "generated: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > out/report.txt
head -c "$((DRYDOCK_PARAM_BIG_MB * 1024 * 1024))" /dev/urandom > out/big.bin
token="${DRYDOCK_PARAM_API_TOKEN-}"
echo "token has ${#token} characters"
echo "wrote out/report.txt and out/big.bin ($(wc -c < out/big.bin) bytes)"
