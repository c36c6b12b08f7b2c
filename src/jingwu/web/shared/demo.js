// A demo server (`jingwu demo`) keeps password-only log-in for its demo users so that anyone can
// try it; every page says so, before log-in too, so that nobody mistakes it for the real system.

/** Ask the server whether it is a demo; when it is, mark the page (body.demo) and fill every
 * [data-demo-badge] element. Offline or unreachable: nothing is shown or changed. */
export async function markDemo() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    const health = await response.json();
    if (!health.demo) return false;
  } catch {
    return false;
  }
  document.body.classList.add("demo");
  for (const badge of document.querySelectorAll("[data-demo-badge]")) badge.hidden = false;
  return true;
}
