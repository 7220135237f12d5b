"""The job queue on taskiq: an in-process broker embedded, Redis streams (taskiq-redis) in production."""
