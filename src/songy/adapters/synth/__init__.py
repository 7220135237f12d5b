"""The offline procedural music generator: prompt -> style -> composition -> rendered, encoded audio."""
