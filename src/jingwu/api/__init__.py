"""HTTP and WebSocket edge."""
