// Placeholder until the checks tab lands (issue 15; replaced by its own module): shown to no role.
export default { id: "checks", roles: [], title: { "zh-CN": "checks", en: "checks" }, strings: {}, mount: () => ({}) };
