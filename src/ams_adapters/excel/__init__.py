"""Excel workbooks: uploads read with python-calamine after an archive check, templates and
exports written with openpyxl in write-only mode.
"""

from ams_adapters.excel.reader import CalamineWorkbookReader
from ams_adapters.excel.writer import OpenpyxlWorkbookWriter

__all__ = ["CalamineWorkbookReader", "OpenpyxlWorkbookWriter"]
