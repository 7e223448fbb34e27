"""The database: its schema, how it is opened, and the few queries several parts share.

How the parts relate, and where a change starts:

- `migrations` is the schema's history, an append-only list. Every change to the database starts
  here, with a new migration that declares its own tables (it never reads `models`), so a
  database made by the first release and one made today end up alike.
- `models` declares the same tables as SQLModel classes, for the code that writes (import,
  marks, crawl results, papers). After adding a migration, change the model to match; a test
  compares a migrated blank database with what the models declare.
- `tables` names the columns again as light SQLAlchemy Core handles, for the read-only commands
  (`progress`, reports, `next`) that must not pay for building the models.
- `db` opens a database (pragmas, lock timeouts, migrations on every open) and holds shared queries.
- `tally` reads and repairs the per-topic counts that SQLite triggers keep.
- `states` holds the fixed words: statuses, paper states, kinds, crawl states.
"""
