"""Clerk: session JWT verification (RS256 against the instance's JWKS) and user webhooks (Svix)."""
