"""Database access: the asyncpg pool, the embedded server, migrations and one module of SQL
functions per table group. Nothing here imports the rest of Kilas."""
