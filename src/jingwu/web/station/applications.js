// Placeholder until the applications tab lands (issue 15; replaced by its own module): needs what no one holds.
export default {
  id: "applications",
  needs: "none",
  title: { "zh-CN": "applications", en: "applications" },
  strings: {},
  create: () => ({ element: document.createElement("section"), refresh: async () => {}, render() {} }),
};
