"""The cover plan and cover analytics as Excel workbooks."""

from __future__ import annotations

from datetime import date

from ams_core.domain import CoverNeed, CoverNeedId, CoverPlan, Principal
from ams_core.ports.workbooks import Sheet, WorkbookWriter
from ams_core.use_cases import CoverAnalyticsReport, ListCoverNeeds, ListCoverNeedsCommand

NEED_COLUMNS = (
    "Need ID",
    "Date",
    "Start",
    "End",
    "Section",
    "Subject code",
    "Absent teacher",
)
#: needs read per page while looking up a plan's needs for its workbook
PLAN_NEEDS_PAGE = 500


def _plan_needs(
    needs: ListCoverNeeds, actor: Principal, plan: CoverPlan
) -> dict[CoverNeedId, CoverNeed]:
    """The needs a plan names (every one lies on the plan's days), by id."""
    wanted = {a.need_id for a in plan.assignments} | {u.need_id for u in plan.uncovered}
    found: dict[CoverNeedId, CoverNeed] = {}
    offset = 0
    while wanted - found.keys():
        page = needs(
            ListCoverNeedsCommand(
                actor,
                limit=PLAN_NEEDS_PAGE,
                offset=offset,
                first_day=plan.first_day,
                last_day=plan.last_day,
            )
        )
        found.update((n.id, n) for n in page.items if n.id in wanted)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    return found


def _need_cells(need_id: CoverNeedId, need: CoverNeed | None) -> tuple[str | date | None, ...]:
    if need is None:  # not found (it should always be): the id alone
        return (need_id, None, None, None, None, None, None)
    return (
        need.id,
        need.day,
        need.starts_at.isoformat(timespec="minutes"),
        need.ends_at.isoformat(timespec="minutes"),
        need.section_id,
        need.subject_code,
        need.absent_faculty_id,
    )


def plan_workbook(
    writer: WorkbookWriter, needs: ListCoverNeeds, actor: Principal, plan: CoverPlan
) -> bytes:
    by_id = _plan_needs(needs, actor, plan)
    assignments = Sheet(
        "Assignments",
        (*NEED_COLUMNS, "Substitute", "Score", "Reasons", "Need status"),
        (
            (
                *_need_cells(a.need_id, by_id.get(a.need_id)),
                a.substitute_id,
                a.score,
                "; ".join(f"{r.rule.value} {r.points:+d}" for r in a.reasons),
                by_id[a.need_id].status.value if a.need_id in by_id else None,
            )
            for a in plan.assignments
        ),
    )
    uncovered = Sheet(
        "Uncovered",
        (*NEED_COLUMNS, "Reason", "Need status"),
        (
            (
                *_need_cells(u.need_id, by_id.get(u.need_id)),
                u.reason.value,
                by_id[u.need_id].status.value if u.need_id in by_id else None,
            )
            for u in plan.uncovered
        ),
    )
    return writer.write([assignments, uncovered])


def analytics_workbook(writer: WorkbookWriter, report: CoverAnalyticsReport) -> bytes:
    by_day = Sheet(
        "By day",
        ("Date", "Needs", "Covered", "Uncovered", "Fill rate %"),
        (
            (d.day, d.figures.needs, d.figures.covered, d.figures.uncovered, d.figures.fill_rate)
            for d in report.by_day
        ),
    )
    by_lead_time = Sheet(
        "By lead time",
        ("Lead time", "From hours", "To hours", "Needs", "Covered", "Fill rate %"),
        (
            (
                b.label,
                b.from_hours,
                b.to_hours,
                b.figures.needs,
                b.figures.covered,
                b.figures.fill_rate,
            )
            for b in report.by_lead_time
        ),
    )
    load = Sheet(
        "Load",
        ("Teacher ID", "Teacher", "Covers"),
        ((t.faculty_id, t.name, t.covers) for t in report.load),
    )
    uncovered = Sheet(
        "Uncovered",
        (*NEED_COLUMNS, "Status"),
        ((*_need_cells(n.id, n), n.status.value) for n in report.uncovered),
    )
    return writer.write([by_day, by_lead_time, load, uncovered])
