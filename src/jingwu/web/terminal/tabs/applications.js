// Placeholder until the applications tab lands (issue 15; replaced by its own module): shown to no role.
export default { id: "applications", roles: [], title: { "zh-CN": "applications", en: "applications" }, strings: {}, mount: () => ({}) };
