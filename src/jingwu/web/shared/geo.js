// Great-circle distance for what the apps show beside road figures ("1.2 km as the crow flies");
// never for ranking units, which is by road travel time on the server.

const EARTH_RADIUS_M = 6371008.8;

/** Metres between two {lat, lon} points (haversine). */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
