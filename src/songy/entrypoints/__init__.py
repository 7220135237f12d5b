"""Thin entrypoints: the HTTP API, the worker and the CLI."""
