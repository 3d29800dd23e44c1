"""HTTP and WebSocket doors: parse input, call a service, render its result."""
