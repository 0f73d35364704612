"""Typed identifiers.

Every id is a plain ``str`` at run time; the ``NewType`` wrappers only let the type checker
catch a student id passed where a session id belongs.
"""

from typing import NewType

InstitutionId = NewType("InstitutionId", str)
SectionId = NewType("SectionId", str)
StudentId = NewType("StudentId", str)
FacultyId = NewType("FacultyId", str)
SubjectCode = NewType("SubjectCode", str)
AssignmentId = NewType("AssignmentId", str)
SlotId = NewType("SlotId", str)
TermId = NewType("TermId", str)
SessionId = NewType("SessionId", str)
DeviceId = NewType("DeviceId", str)
NotificationId = NewType("NotificationId", str)
CoverId = NewType("CoverId", str)
SignInId = NewType("SignInId", str)
AbsenceId = NewType("AbsenceId", str)
CoverNeedId = NewType("CoverNeedId", str)
CoverPlanId = NewType("CoverPlanId", str)
CoverOfferId = NewType("CoverOfferId", str)
PreferenceId = NewType("PreferenceId", str)
