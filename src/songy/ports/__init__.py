"""Interfaces (``typing.Protocol``) that the use cases depend on; adapters implement them."""
