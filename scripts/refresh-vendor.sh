#!/usr/bin/env bash
# Refresh the JavaScript libraries Jingwu serves itself (no CDN, no Node.js at install or run
# time): each is fetched at a pinned version from the npm registry with `npm pack`, and only the
# files we serve are kept, with the package's licence.
set -euo pipefail
cd "$(dirname "$0")/.."

SWAGGER_UI_VERSION=5.35.0
LEAFLET_VERSION=1.9.4
ECHARTS_VERSION=6.1.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dest=src/jingwu/web/vendor/swagger-ui
(cd "$work" && npm pack --silent "swagger-ui-dist@${SWAGGER_UI_VERSION}" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
mkdir -p "$dest"
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
  cp "$work/package/$f" "$dest/$f"
done
echo "swagger-ui-dist ${SWAGGER_UI_VERSION} (Apache-2.0), from the npm registry" > "$dest/VERSION"
echo "refreshed $dest"

# Leaflet draws the console's and the terminal's maps; the ES-module build is imported as is.
dest=src/jingwu/web/vendor/leaflet
rm -rf "$work/package"
(cd "$work" && npm pack --silent "leaflet@${LEAFLET_VERSION}" >/dev/null && tar xzf leaflet-*.tgz)
mkdir -p "$dest/images"
cp "$work/package/dist/leaflet-src.esm.js" "$work/package/dist/leaflet.css" "$work/package/LICENSE" "$dest/"
cp "$work/package/dist/images/"*.png "$dest/images/"
echo "leaflet ${LEAFLET_VERSION} (BSD-2-Clause), from the npm registry" > "$dest/VERSION"
echo "refreshed $dest"

# Apache ECharts draws the analytics page's charts (to canvas: no eval under our CSP).
dest=src/jingwu/web/vendor/echarts
rm -rf "$work/package"
(cd "$work" && npm pack --silent "echarts@${ECHARTS_VERSION}" >/dev/null && tar xzf echarts-*.tgz)
mkdir -p "$dest"
cp "$work/package/dist/echarts.min.js" "$work/package/LICENSE" "$work/package/NOTICE" "$dest/"
cp "$work/package/licenses/LICENSE-d3" "$dest/"
echo "echarts ${ECHARTS_VERSION} (Apache-2.0), from the npm registry" > "$dest/VERSION"
echo "refreshed $dest"
