"""SQLAlchemy 2 (async) persistence: PostgreSQL via psycopg 3 in production, SQLite via aiosqlite embedded."""
