// Placeholder until the records tab lands (issue 15; replaced by its own module): needs what no one holds.
export default {
  id: "records",
  needs: "none",
  title: { "zh-CN": "records", en: "records" },
  strings: {},
  create: () => ({ element: document.createElement("section"), refresh: async () => {}, render() {} }),
};
