#!/bin/sh
echo "about to fail"
echo "something went wrong: disk quota exceeded" >&2
exit "$DRYDOCK_PARAM_CODE"
