#!/usr/bin/env bash
# Refresh the JavaScript libraries Jingwu serves itself (no CDN, no Node.js at install or run
# time): each is fetched at a pinned version from the npm registry with `npm pack`, and only the
# files we serve are kept, with the package's licence.
set -euo pipefail
cd "$(dirname "$0")/.."

SWAGGER_UI_VERSION=5.35.0
dest=src/jingwu/web/vendor/swagger-ui
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@${SWAGGER_UI_VERSION}" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
mkdir -p "$dest"
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
  cp "$work/package/$f" "$dest/$f"
done
echo "swagger-ui-dist ${SWAGGER_UI_VERSION} (Apache-2.0), from the npm registry" > "$dest/VERSION"
echo "refreshed $dest"
