"""Development tokens (HS256), minted by ``songy token``; refused when Songy runs in production mode."""
