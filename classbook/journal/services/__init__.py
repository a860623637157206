"""Journal operations (R2): every change is checked, versioned against lost updates and audited.

Each function takes ``acting_user`` keyword-only, runs in one transaction, locks the row it changes
(``select_for_update``; the cell saves instead write with ``UPDATE … WHERE version = expected``),
compares the version the writer saw, and writes a ``JournalChange``.
A stale writer gets ``ConflictError`` carrying the current value (HTTP 409 in the API).
"""

# The package's public actions, by subject; callers import them from ``classbook.journal.services``.
from classbook.journal.rules import accumulation as accumulation
from classbook.journal.rules import annual_grade_basis as annual_grade_basis
from classbook.journal.services._common import (
    MAX_BULK_ITEMS,
    MAX_SLOT,
    CellConflict,
    CellValue,
    default_work_type,
    imported_by,
    is_late_entry,
)
from classbook.journal.services.cells import (
    CellOccupied,
    LessonCell,
    parse_attendance,
    record_attendance,
    record_mark,
    write_grid_lesson_cell,
    write_lesson_cell,
)
from classbook.journal.services.grades import correct_period_grade, parse_period_grade, record_period_grade
from classbook.journal.services.lessons import (
    LESSON_FIELDS,
    BulkRejected,
    BulkResult,
    create_lesson,
    describe_reason,
    record_absence_reason,
    record_lesson_bulk,
    take_register,
    update_lesson,
)
from classbook.journal.services.offline import OfflineEntry, Outcome, check_device_time, sync_offline_entries
from classbook.journal.services.remarks import add_remark, fix_remark
from classbook.journal.services.settings import (
    delete_attendance_code,
    delete_work_type,
    save_attendance_code,
    save_work_type,
    update_journal_policy,
)

__all__ = [
    "LESSON_FIELDS",
    "MAX_BULK_ITEMS",
    "MAX_SLOT",
    "BulkRejected",
    "BulkResult",
    "CellConflict",
    "CellOccupied",
    "CellValue",
    "LessonCell",
    "OfflineEntry",
    "Outcome",
    "accumulation",
    "add_remark",
    "annual_grade_basis",
    "check_device_time",
    "correct_period_grade",
    "create_lesson",
    "default_work_type",
    "delete_attendance_code",
    "delete_work_type",
    "describe_reason",
    "fix_remark",
    "imported_by",
    "is_late_entry",
    "parse_attendance",
    "parse_period_grade",
    "record_absence_reason",
    "record_attendance",
    "record_lesson_bulk",
    "record_mark",
    "record_period_grade",
    "save_attendance_code",
    "save_work_type",
    "sync_offline_entries",
    "take_register",
    "update_journal_policy",
    "update_lesson",
    "write_grid_lesson_cell",
    "write_lesson_cell",
]
