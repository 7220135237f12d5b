"""Songy: an asynchronous AI music generation backend."""

__version__ = "0.1.0"
