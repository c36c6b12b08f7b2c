// Placeholder until the disputes tab lands (issue 15; replaced by its own module): needs what no one holds.
export default {
  id: "disputes",
  needs: "none",
  title: { "zh-CN": "disputes", en: "disputes" },
  strings: {},
  create: () => ({ element: document.createElement("section"), refresh: async () => {}, render() {} }),
};
