"""Forge Remote host: Forge calls this Python backend with Forge Invocation Tokens (docs/forge.md)."""
