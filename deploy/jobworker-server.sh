#!/bin/sh
# jobworker-server as packaged: the bundled server on the package's own Node runtime,
# found relative to this script, so an extracted tarball runs from wherever it lies.
set -e
here=$(dirname "$(readlink -f "$0")")
lib="$here/../lib/jobworker"
exec "$lib/node" "$lib/server/jobworker-server.mjs" "$@"
