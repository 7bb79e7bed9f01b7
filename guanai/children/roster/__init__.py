"""Roster import and export (SPEC §6.1, §6.2): school sheets in as they really are, the template
and the school's roster out.

An import reads the whole sheet first (reading only: parse, normalise, validate, match), then
writes in one short transaction, so a failure leaves nothing half-written and SQLite's single
writer is held only for the write. New cards, their parents and guardian and the history rows of
all of them go in with `cursor.executemany` (per-row ORM objects cost 3.5x the floor, STACK.md);
the fewer updates of known cards go through the ORM so django-simple-history records them.

The package, by step: `columns` (the template's columns, their aliases, what an import reports),
`reading` (sheets, the header row, each row into card input), `matching` (rows to known cards,
the plan of each update), `writer` (the bulk insert of new cards), `importer` (the import
itself), `export` (the roster out and the empty template). Callers import from here.
"""

from .columns import COLUMNS, TEXT_COLUMNS, ImportResult, RosterError, RowError
from .export import export_roster, write_template
from .importer import import_roster
from .matching import _pinyin
from .reading import Header, find_header, read_sheet

__all__ = [
    "COLUMNS",
    "TEXT_COLUMNS",
    "Header",
    "ImportResult",
    "RosterError",
    "RowError",
    "_pinyin",
    "export_roster",
    "find_header",
    "import_roster",
    "read_sheet",
    "write_template",
]
