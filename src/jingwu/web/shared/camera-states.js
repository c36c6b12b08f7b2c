// A camera's state in words (domain/cameras.py CameraState), for the console and the admin page
// alike: merged into each page's strings.

export const CAMERA_STATE_STRINGS = {
  "zh-CN": {
    "camstate.unknown": "未知",
    "camstate.online": "在线",
    "camstate.offline": "离线",
    "camstate.no_signal": "无信号",
    "camstate.frozen": "画面冻结",
    "camstate.black": "黑屏",
    "camstate.unsupported": "编码不支持",
  },
  en: {
    "camstate.unknown": "Unknown",
    "camstate.online": "Online",
    "camstate.offline": "Offline",
    "camstate.no_signal": "No signal",
    "camstate.frozen": "Frozen",
    "camstate.black": "Black picture",
    "camstate.unsupported": "Unsupported codec",
  },
};
