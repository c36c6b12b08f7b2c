// Placeholder until the watchlists tab lands (issue 15; replaced by its own module): needs what no one holds.
export default {
  id: "watchlists",
  needs: "none",
  title: { "zh-CN": "watchlists", en: "watchlists" },
  strings: {},
  create: () => ({ element: document.createElement("section"), refresh: async () => {}, render() {} }),
};
