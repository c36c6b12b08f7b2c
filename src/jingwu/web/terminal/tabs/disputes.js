// Placeholder until the disputes tab lands (issue 15; replaced by its own module): shown to no role.
export default { id: "disputes", roles: [], title: { "zh-CN": "disputes", en: "disputes" }, strings: {}, mount: () => ({}) };
