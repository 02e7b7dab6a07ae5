"""HTTP API under /api/v1, the CLI, and the composition root (api.app) that mounts the web."""
