"""Automatic vehicle location: one decoder per device protocol, each pure (a request or frame in,
fixes or a refusal out), tested on captured traffic. The fixes then go through the GPS filter
(domain.gps) and into the position history (service.positions)."""
