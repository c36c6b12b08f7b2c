// The station desk's own words (its tabs bring theirs: see app.js).

export const STRINGS = {
  "zh-CN": {
    "app.title": "派出所工作台",
    "app.tab": "警务 · 派出所工作台",
    "lang.other": "English",
    "login.username": "用户名",
    "login.password": "密码",
    "login.totp": "动态验证码",
    "login.submit": "登录",
    "login.no_desk": "该账号无派出所工作台的权限",
    "nav.console": "指挥台",
    "btn.logout": "退出",
    "desk.empty": "暂无可用的工作项",
    "notice.saved": "已保存",
  },
  en: {
    "app.title": "Station desk",
    "app.tab": "Jingwu · Station desk",
    "lang.other": "中文",
    "login.username": "User name",
    "login.password": "Password",
    "login.totp": "One-time code",
    "login.submit": "Log in",
    "login.no_desk": "This account may not use the station desk",
    "nav.console": "Console",
    "btn.logout": "Log out",
    "desk.empty": "Nothing to work on here",
    "notice.saved": "Saved",
  },
};
