"""Where the device broker is: ``JINGWU_MQTT_URL`` read into its parts (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerConfig:
        """``mqtt://[user[:password]@]host[:port]`` (1883) or ``mqtts://…`` (TLS, 8883).
        A ValueError names what is wrong, never the password."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError("an MQTT URL starts with mqtt:// or mqtts://")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the MQTT URL's port is not a number from 1 to 65535") from None
        if not parts.hostname:
            raise ValueError("the MQTT URL names no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("an MQTT URL has no path, query or fragment (the topics are fixed)")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def redacted(self) -> str:
        """The URL as it may be shown and logged: the password left out."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


__all__ = ["BrokerConfig"]
