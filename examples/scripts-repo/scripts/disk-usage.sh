#!/usr/bin/env bash
set -euo pipefail
echo "filesystems:"
df -h
echo
echo "largest entries under ${DRYDOCK_PARAM_PATH} (top ${DRYDOCK_PARAM_TOP}):"
du -x -s -- "${DRYDOCK_PARAM_PATH}"/* 2>/dev/null | sort -rn | head -n "${DRYDOCK_PARAM_TOP}" || true
