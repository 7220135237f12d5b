"""ElevenLabs Music (``POST /v1/music``) via httpx."""
