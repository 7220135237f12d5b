"""In-memory doubles of every port, for unit tests and demos."""
