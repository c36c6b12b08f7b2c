// The terminal's service worker (scope /terminal/): the app shell is precached and served from the
// cache first, so the terminal opens with no connection; each shell file is refreshed in the
// background, so the next start picks up a new release. API answers are never cached, except the
// road map and the incident types (network first, the cached copy when offline). Bump VERSION when
// the list of shell files changes.

const VERSION = "v10";
const SHELL_CACHE = `jingwu-terminal-shell-${VERSION}`;
const DATA_CACHE = "jingwu-terminal-data-v1";

const SHELL = [
  "/terminal/",
  "/terminal/manifest.webmanifest",
  "/static/terminal/app.js",
  "/static/terminal/map.js",
  "/static/terminal/outbox.js",
  "/static/terminal/position.js",
  "/static/terminal/ring.js",
  "/static/terminal/sheets.js",
  "/static/terminal/strings.js",
  "/static/terminal/tabs.js",
  "/static/terminal/transitions.js",
  "/static/terminal/terminal.css",
  "/static/terminal/icons/icon.svg",
  "/static/terminal/icons/icon-192.png",
  "/static/terminal/icons/icon-512.png",
  "/static/shared/api.js",
  "/static/shared/demo.js",
  "/static/shared/geo.js",
  "/static/shared/i18n.js",
  "/static/shared/labels.js",
  "/static/shared/live.js",
  "/static/vendor/leaflet/leaflet-src.esm.js",
  "/static/vendor/leaflet/leaflet.css",
];
// The tabs beyond dispatch (terminal/tabs.js TAB_MODULES): cached as well, but one that is missing
// must not stop the rest of the shell from working offline.
const TABS = ["today", "checks", "collect", "disputes", "applications"].map((name) => `/static/terminal/tabs/${name}.js`);
const SHELL_PATHS = new Set([...SHELL, ...TABS]);

// Reference data a terminal may show offline: network first, then the last copy.
const DATA_PATHS = new Set(["/api/map/config", "/api/map/roads", "/api/map/features", "/api/incident-types"]);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })));
      await Promise.allSettled(TABS.map((url) => cache.add(new Request(url, { cache: "reload" }))));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([SHELL_CACHE, DATA_CACHE]);
      for (const name of await caches.keys()) {
        if (name.startsWith("jingwu-terminal-") && !keep.has(name)) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // commands always go to the network (the outbox retries)
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (DATA_PATHS.has(url.pathname) && !url.search) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (url.pathname.startsWith("/api/")) return; // live data: never from a cache
  if (request.mode === "navigate" && url.pathname === "/terminal/") {
    event.respondWith(cacheFirst(event, "/terminal/"));
    return;
  }
  if (SHELL_PATHS.has(url.pathname) || url.pathname.startsWith("/static/vendor/leaflet/")) {
    event.respondWith(cacheFirst(event, url.pathname));
  }
});

/** The cached copy at once, refreshed in the background; the network when nothing is cached. */
async function cacheFirst(event, key) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(key);
  const fresh = fetch(event.request.mode === "navigate" ? key : event.request, { cache: "no-cache" })
    .then(async (response) => {
      if (response.ok && response.type === "basic") await cache.put(key, response.clone());
      return response;
    });
  if (cached) {
    event.waitUntil(fresh.catch(() => undefined));
    return cached;
  }
  return fresh;
}

async function networkFirst(request) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request.url, response.clone());
    return response;
  } catch (exc) {
    const cached = await cache.match(request.url);
    if (cached) return cached;
    throw exc;
  }
}
