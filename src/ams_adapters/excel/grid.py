"""Where the cells of an uploaded workbook sit, judged before a parser lays them out.

calamine builds a sheet as a dense grid spanning its first and last cells, so two cells far
apart (``A1`` and ``XFD150000``, a few bytes of XML) would make it allocate tens of
gigabytes and take the process down. Every part of the archive is scanned while it is
decompressed: a row or cell written the usual way (``<row r="12"``, ``<c r="B12"``, the
reference first) is judged by one regular expression; anything else that could be a row or a
cell (no reference, the reference elsewhere or spelled unusually, a namespace prefix, a part
not in UTF-8) sends the part through an exact scan that places every row and cell as a
spreadsheet reader does, references or not.
"""

from __future__ import annotations

import re
import zipfile
from functools import lru_cache
from string import ascii_uppercase, digits
from xml.parsers import expat

from openpyxl.utils import column_index_from_string, get_column_letter

from ams_core.domain.errors import FileRefusal, UnacceptableFileError
from ams_core.ports.workbooks import WorkbookLimits

#: a part starting with one of these (or with a NUL among its first bytes) is not in UTF-8
_WIDE_MARKS = (b"\xff\xfe", b"\xfe\xff")
#: how far back from a chunk's end an element start is carried into the next chunk; an
#: element name still running there is judged by the exact scan
_CARRY = 512
_ENDLESS_NAME = re.compile(rb"<[^\s<>/!?]{%d}" % (_CARRY - 1))
_PREFIXED = (b":c", b":row")


def _at_most(bound: str, alphabet: str) -> str:
    """A pattern matching the strings over ``alphabet`` that count no higher than ``bound``
    (shorter ones, or as long and not after it letter by letter)."""
    any_symbol = f"[{alphabet[0]}-{alphabet[-1]}]"
    choices = [f"{any_symbol}{{1,{len(bound) - 1}}}"] if len(bound) > 1 else []
    for at, symbol in enumerate(bound):
        lower = alphabet.index(symbol)
        if lower:
            below = f"[{alphabet[0]}-{alphabet[lower - 1]}]"
            rest = len(bound) - at - 1
            choices.append(bound[:at] + below + (f"{any_symbol}{{{rest}}}" if rest else ""))
    choices.append(bound)
    return "(?:" + "|".join(choices) + ")"


@lru_cache(maxsize=8)
def _unusual(max_row: int, max_column: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Row and cell starts the usual-way check cannot vouch for (not a reference within the
    bounds right after the name, then other attributes to the end of the tag): without a
    prefix, and with one (searched for only where a chunk has ``:c`` or ``:row`` at all, as
    most sheets have none)."""
    row = _at_most(str(max_row), digits)
    cell = _at_most(get_column_letter(max_column), ascii_uppercase) + row
    # then only other attributes (none named r: calamine would take the last r) to the end
    # of the tag, each read once (possessive), as XML writes them
    others = "(?:\\s++(?!r[\\s=])[^\\s=/>\"'<]++\\s*+=\\s*+(?:\"[^\"<]*+\"|'[^'<]*+'))*+\\s*+/?>"
    element = f'(?:c(?=[\\s/>])(?! r="{cell}"{others})|row(?=[\\s/>])(?! r="{row}"{others}))'
    return re.compile(f"<{element}".encode()), re.compile(f"<[^\\s<>/!?:]*+:{element}".encode())


class GridScan:
    """Watches one part's chunks; :attr:`needs_exact_scan` once anything is out of the
    ordinary (most workbooks never set it)."""

    def __init__(self, limits: WorkbookLimits) -> None:
        self._plain, self._prefixed = _unusual(limits.max_rows + 1, limits.max_columns)
        self._carry = b""
        self._started = False
        self.needs_exact_scan = False

    def feed(self, chunk: bytes) -> None:
        if self.needs_exact_scan:
            return
        if not self._started:
            self._started = True
            if chunk.startswith(_WIDE_MARKS) or b"\x00" in chunk[:4]:
                self.needs_exact_scan = True
                return
        window = self._carry + chunk
        # an element start near the end may be cut: judge it with the next chunk
        cut = window.rfind(b"<")
        if cut == -1 or len(window) - cut > _CARRY:
            if cut != -1 and _ENDLESS_NAME.match(window, cut):
                self.needs_exact_scan = True
                return
            cut = len(window)
        self._carry = window[cut:]
        self.needs_exact_scan = self._found(window, cut)

    def finish(self) -> None:
        if not self.needs_exact_scan and self._carry:
            self.needs_exact_scan = self._found(self._carry, len(self._carry))

    def _found(self, window: bytes, end: int) -> bool:
        if self._plain.search(window, 0, end) is not None:
            return True
        return any(mark in window for mark in _PREFIXED) and (
            self._prefixed.search(window, 0, end) is not None
        )


#: a cell reference as calamine reads it (letters in either case)
_REFERENCE = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_ROW_NUMBER = re.compile(r"[0-9]{1,7}")


class _Placement:
    """Places every row and cell of a part as a reader does: at its reference, or one past
    the previous row (or the previous cell in the row) when it has none."""

    def __init__(self, name: str, limits: WorkbookLimits) -> None:
        self._name = name
        self._max_row = limits.max_rows + 1  # the header row is not a data row
        self._max_column = limits.max_columns
        self._row = 0
        self._column = 0

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if local == "row":
            reference = attributes.get("r")
            self._row = self._number(reference) if reference is not None else self._row + 1
            self._column = 0
            self._check_row(self._row)
        elif local == "c":
            reference = attributes.get("r")
            if reference is None:
                self._column += 1
            else:
                found = _REFERENCE.fullmatch(reference.strip())
                if found is None:
                    raise self._unreadable(f"a cell reference {reference[:20]!r}")
                self._column = column_index_from_string(found[1].upper())
                self._check_row(int(found[2]))
            if self._column > self._max_column:
                raise UnacceptableFileError(
                    FileRefusal.TOO_MANY_COLUMNS,
                    f"the workbook has a cell in column {get_column_letter(self._column)} (column "
                    f"number {self._column:,}, part {self._name!r}); at most "
                    f"{self._max_column} columns are accepted",
                )

    def _number(self, reference: str) -> int:
        if _ROW_NUMBER.fullmatch(reference.strip()) is None:
            raise self._unreadable(f"a row number {reference[:20]!r}")
        return int(reference)

    def _check_row(self, row: int) -> None:
        if row > self._max_row:
            raise UnacceptableFileError(
                FileRefusal.TOO_MANY_ROWS,
                f"the workbook has a cell in row {row:,} (part {self._name!r}); at most "
                f"{self._max_row - 1:,} data rows are accepted per upload",
            )

    def _unreadable(self, what: str) -> UnacceptableFileError:
        return UnacceptableFileError(
            FileRefusal.UNREADABLE,
            f"the workbook part {self._name!r} has {what} that is not a spreadsheet reference",
        )


def place_exactly(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: WorkbookLimits, chunk_size: int
) -> None:
    """Refuse ``member`` if any row or cell in it lies beyond ``limits``, placing each one.

    Only called on a part already searched for a document type declaration, so the parser
    never meets an entity definition.

    Raises:
        UnacceptableFileError: a row or column beyond the limits, a reference that is not
            one, or XML that is not well formed.
    """
    placement = _Placement(member.filename, limits)
    parser = expat.ParserCreate()
    parser.StartElementHandler = placement.start
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(chunk_size):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise UnacceptableFileError(
            FileRefusal.UNREADABLE,
            f"the workbook part {member.filename!r} is not well-formed XML "
            f"(line {error.lineno}, column {error.offset}): it cannot be read",
        ) from None
