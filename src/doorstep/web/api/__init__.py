"""The REST API under /api/v1 (docs/api.md); OpenAPI at /api/v1/openapi.json."""
