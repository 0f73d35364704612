"""Pure row <-> entity conversion (no database needed to test them).

One module per area, the same areas as :mod:`ams_adapters.sql.repositories`; everything is
re-exported here, so repositories read ``mappers.student_from`` whatever the area.
"""

from ams_adapters.sql.mappers._base import Row
from ams_adapters.sql.mappers.accounts import (
    operator_sign_in_from,
    operator_sign_in_row,
    password_from,
    password_row,
    sign_in_from,
    sign_in_row,
)
from ams_adapters.sql.mappers.attendance import (
    mark_from,
    mark_row,
    mark_status,
)
from ams_adapters.sql.mappers.cover_work import (
    absence_from,
    absence_row,
    need_from,
    need_row,
    offer_from,
    offer_row,
    plan_from,
    plan_row,
    preference_from,
    preference_row,
    reasons_from_json,
    reasons_to_json,
)
from ams_adapters.sql.mappers.covers import (
    cover_from,
    cover_row,
)
from ams_adapters.sql.mappers.institutions import (
    institution_from,
    institution_row,
    settings_from_json,
    settings_to_json,
)
from ams_adapters.sql.mappers.messaging import (
    audit_from,
    audit_row,
    event_from,
    event_row,
    notification_from,
    notification_row,
    push_token_from,
    push_token_row,
    sent_from,
)
from ams_adapters.sql.mappers.people import (
    binding_from,
    binding_row,
    faculty_from,
    faculty_row,
    section_from,
    section_row,
    student_from,
    student_row,
)
from ams_adapters.sql.mappers.sessions import (
    scheduled_class_from,
    session_from,
    session_row,
)
from ams_adapters.sql.mappers.teaching import (
    assignment_from,
    assignment_row,
    holiday_from,
    holiday_row,
    slot_from,
    slot_row,
    subject_from,
    subject_row,
    term_from,
    term_row,
)

__all__ = [
    "Row",
    "absence_from",
    "absence_row",
    "assignment_from",
    "assignment_row",
    "audit_from",
    "audit_row",
    "binding_from",
    "binding_row",
    "cover_from",
    "cover_row",
    "event_from",
    "event_row",
    "faculty_from",
    "faculty_row",
    "holiday_from",
    "holiday_row",
    "institution_from",
    "institution_row",
    "mark_from",
    "mark_row",
    "mark_status",
    "need_from",
    "need_row",
    "notification_from",
    "notification_row",
    "offer_from",
    "offer_row",
    "operator_sign_in_from",
    "operator_sign_in_row",
    "password_from",
    "password_row",
    "plan_from",
    "plan_row",
    "preference_from",
    "preference_row",
    "push_token_from",
    "push_token_row",
    "reasons_from_json",
    "reasons_to_json",
    "scheduled_class_from",
    "section_from",
    "section_row",
    "sent_from",
    "session_from",
    "session_row",
    "settings_from_json",
    "settings_to_json",
    "sign_in_from",
    "sign_in_row",
    "slot_from",
    "slot_row",
    "student_from",
    "student_row",
    "subject_from",
    "subject_row",
    "term_from",
    "term_row",
]
