#!/usr/bin/env bash
# The background sleeper is in the same process group: cancel and timeout must kill it too.
sleep "$((DRYDOCK_PARAM_SECONDS + 300))" &
echo "child pid $!"
for i in $(seq 1 "$DRYDOCK_PARAM_SECONDS"); do
  echo "tick $i"
  sleep 1
done
echo done
