"""The event bus moves events between nodes and knows nothing of their meaning (docs/events.md)."""
