// Placeholder until the collect tab lands (issue 15; replaced by its own module): shown to no role.
export default { id: "collect", roles: [], title: { "zh-CN": "collect", en: "collect" }, strings: {}, mount: () => ({}) };
