"""The Demo Shop: seed data and pages that show Doorstep on a small store (docs/demo.md)."""
