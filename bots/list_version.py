"""The version of what GET /bots shows, kept by the database itself (docs/design.md §15, issue 18).

A trigger on each table the list reads gives BotListVersion's single row a new random value, in the transaction of
the write. The list's ETag is that value, read with the servers' sync states (one query), so a poll whose client
holds it is answered 304 without building a row, and a process may keep the list it rendered for a version
(bots/api/views.py).

Triggers rather than a call in each service: no write path can forget one, bulk `update()`s (which skip the auto_now
`updated_at`), the admin, a shell and writes later code adds included. A reader sees the value and the rows of the
same commits; rows read after the value can only be newer than it, so an answer may be newer than its ETag (the
next poll then gets a 200), never older. Random rather than a count: a count goes back with a rolled-back write
(each test), a restored backup or a flush, and would then name again a content it named before.

PostgreSQL writes it once per statement, after the statement's row locks (an AFTER trigger), and holds that row's
lock until the transaction ends: writers queue on it, and never deadlock while a transaction's write to a watched
table is its last lock (so it is in every service today: one such statement, at the end of its transaction; a
transaction that wrote one and then locked other rows could deadlock with one holding those rows). SQLite has only
row triggers: once per row written, a few microseconds each, under its single writer lock.

A table the list comes to read needs `install()` in a migration; on SQLite, a migration that rebuilds a watched
table drops its triggers and must install them again (tests/test_bots_list_version.py finds the tables in the list's
queries and checks both).
"""
BUMP_FUNCTION = "bots_list_version_bump"
# 0 .. 2**53 - 1: any client (JavaScript's numbers included) reads it whole.
NEW_VALUE = {"postgresql": "floor(random() * 9007199254740992)::bigint", "sqlite": "(random() & 9007199254740991)"}


def _trigger(table: str, event: str = "") -> str:
    return f"bots_list_version_{table}{'_' + event.lower() if event else ''}"


def install(schema_editor, version_table: str, tables: list[str]) -> None:
    quote = schema_editor.quote_name
    vendor = schema_editor.connection.vendor
    if vendor not in NEW_VALUE:  # without its triggers the list would answer 304 to changed content
        raise NotImplementedError(f"GET /bots keeps its version with SQLite or PostgreSQL triggers, not {vendor}")
    # Upsert: after a flush (tests) the row is gone, and the first write makes it again.
    bump = (f"INSERT INTO {quote(version_table)} (id, value) VALUES (1, {NEW_VALUE[vendor]}) "
            f"ON CONFLICT (id) DO UPDATE SET value = excluded.value;")
    schema_editor.execute(bump)  # the version of what is already there
    if vendor == "postgresql":
        schema_editor.execute(f"CREATE OR REPLACE FUNCTION {BUMP_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                              f"BEGIN {bump} RETURN NULL; END $$")
        for table in tables:
            schema_editor.execute(f"CREATE TRIGGER {_trigger(table)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                                  f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {BUMP_FUNCTION}()")
    else:
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {quote(table)} "
                                      f"BEGIN {bump} END")


def uninstall(schema_editor, tables: list[str]) -> None:
    quote = schema_editor.quote_name
    if schema_editor.connection.vendor == "postgresql":
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {quote(table)}")
    else:
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}")
