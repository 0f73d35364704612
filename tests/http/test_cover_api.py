"""Teacher absences and teaching cover over HTTP (PRODUCT.md §2.6).

Week 2026-W47 is generated (alice F001: CS101 to section A at 09:00; bob F002: MA101 to A
at 10:00 and CS101 to B at 09:00; the admin, ADM, teaches nothing), and the clock stands at
Monday 2026-11-16 09:05 in Asia/Kolkata. Bob is away on Tuesday from 10:00 to 11:00: his
MA101 class becomes a cover need; alice (who teaches section A, just before) is the best
candidate, the admin the next one.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl

from ams_adapters.identity import JwtAccessTokens
from ams_adapters.memory import SeededRandomSource
from ams_core.domain import FacultyId
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from ams_core.testing.builders import OPERATOR
from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand, SignInLifetimes
from tests.http.conftest import SECRET, World
from tests.http.test_management_api import call, error_fields

TUESDAY = "2026-11-17"
BOB_AWAY = {"start": f"{TUESDAY}T10:00:00+05:30", "end": f"{TUESDAY}T11:00:00+05:30"}
WEEK = {"from": "2026-11-16", "to": "2026-11-22"}
TRICKY_NAME = '=HYPERLINK("http://evil.example","click")'


def bob_reports_his_absence(world: World, **extra: Any) -> dict[str, Any]:
    status, absence = call(
        world,
        "POST",
        "/api/v1/absences",
        "a.other_faculty",
        json={**BOB_AWAY, "type": "sick", **extra},
    )
    assert status == 201, absence
    assert isinstance(absence, dict)
    return absence


def the_need(world: World) -> dict[str, Any]:
    needs: list[dict[str, Any]] = bob_reports_his_absence(world)["coverNeeds"]
    assert len(needs) == 1, needs
    return needs[0]


def published_offer(world: World) -> dict[str, Any]:
    """Plan Tuesday and publish it: alice is offered bob's class."""
    need = the_need(world)
    status, plan = call(world, "POST", "/api/v1/cover/plans", json={"from": TUESDAY, "to": TUESDAY})
    assert status == 201, plan
    status, published = call(world, "POST", f"/api/v1/cover/plans/{plan['id']}/publish")
    assert status == 200, published
    offers: list[dict[str, Any]] = published["offers"]
    assert [(o["needId"], o["substituteId"]) for o in offers] == [(need["id"], "F001")]
    return offers[0]


def sign_in_again(world: World, **emails: str) -> None:
    """Fresh access tokens at the world's current time (``faculty="alice@a.edu"``)."""
    tokens = JwtAccessTokens(SECRET, clock=world.clock)
    issue = IssueLocalToken(
        world.uow(), tokens, world.clock, SeededRandomSource(5), SignInLifetimes()
    )
    for role, email in emails.items():
        world.tokens[f"a.{role}"] = issue(IssueLocalTokenCommand(OPERATOR, email)).access_token


def offers_of(world: World, who: str) -> list[dict[str, Any]]:
    status, page = call(world, "GET", "/api/v1/cover/offers", who)
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


# -- absences ---------------------------------------------------------------------------
def test_a_teacher_reports_their_own_absence_and_its_classes_become_cover_needs(
    world: World,
) -> None:
    answer = world.client.post(
        "/api/v1/absences",
        json={**BOB_AWAY, "type": "sick", "note": "flu"},
        headers=world.headers("a.other_faculty"),
    )

    assert answer.status_code == 201, answer.text
    absence = answer.json()
    assert answer.headers["location"] == f"/api/v1/absences/{absence['id']}"
    assert absence == {
        **absence,
        "facultyId": "F002",
        "type": "sick",
        "status": "approved",
        "note": "flu",
        "reportedBy": "bob@a.edu",
    }
    [need] = absence["coverNeeds"]
    assert need == {
        **need,
        "absenceId": absence["id"],
        "absentFacultyId": "F002",
        "sectionId": "E2-CSE-A",
        "subjectCode": "MA101",
        "date": TUESDAY,
        "status": "open",
        "substituteId": None,
    }
    status, read = call(world, "GET", f"/api/v1/absences/{absence['id']}", "a.other_faculty")
    assert (status, read) == (200, absence)
    status, page = call(world, "GET", "/api/v1/absences", "a.other_faculty")
    assert [a["id"] for a in page["items"]] == [absence["id"]]
    assert "coverNeeds" not in page["items"][0]


def test_a_teacher_can_neither_report_nor_see_another_teachers_absence(world: World) -> None:
    absence = bob_reports_his_absence(world)
    path = f"/api/v1/absences/{absence['id']}"

    status, refused = call(
        world,
        "POST",
        "/api/v1/absences",
        "a.faculty",
        json={**BOB_AWAY, "type": "sick", "facultyId": "F002"},
    )

    assert (status, refused["code"]) == (404, "faculty_not_found")
    assert call(world, "GET", path, "a.faculty")[0] == 404
    assert call(world, "POST", f"{path}/cancel", "a.faculty")[0] == 404
    assert call(world, "GET", "/api/v1/absences", "a.faculty")[1]["items"] == []
    assert call(world, "GET", path, "b.admin")[0] == 404
    assert (
        call(world, "POST", "/api/v1/absences", "a.student", json={**BOB_AWAY, "type": "sick"})[0]
        == 403
    )


def test_an_admin_records_a_teachers_absence_and_lists_them_by_filter(world: World) -> None:
    status, absence = call(
        world,
        "POST",
        "/api/v1/absences",
        json={**BOB_AWAY, "type": "official_duty", "facultyId": "F002"},
    )
    assert status == 201, absence
    assert (absence["status"], absence["reportedBy"], len(absence["coverNeeds"])) == (
        "approved",
        "admin@a.edu",
        1,
    )

    def listed(**params: str) -> list[str]:
        status, page = call(world, "GET", "/api/v1/absences", params=params)
        assert status == 200, page
        return [a["id"] for a in page["items"]]

    assert listed(facultyId="F002", status="approved") == [absence["id"]]
    assert listed(facultyId="F001") == []
    assert listed(**{"from": f"{TUESDAY}T10:30:00+05:30"}) == [absence["id"]]
    assert listed(**{"from": f"{TUESDAY}T11:00:00+05:30"}) == []
    status, naive = call(world, "GET", "/api/v1/absences", params={"to": f"{TUESDAY}T11:00:00"})
    assert (status, error_fields(naive)) == (422, {"to"})


def test_an_institution_requiring_approval_makes_needs_only_once_an_admin_approves(
    world: World,
) -> None:
    status, settings = call(
        world, "PATCH", "/api/v1/institution/settings", json={"cover": {"approvalRequired": True}}
    )
    assert (status, settings["cover"]["approvalRequired"]) == (200, True)
    absence = bob_reports_his_absence(world)
    assert (absence["status"], absence["coverNeeds"]) == ("reported", [])
    path = f"/api/v1/absences/{absence['id']}"

    assert call(world, "POST", f"{path}/approve", "a.other_faculty")[0] == 403
    status, approved = call(world, "POST", f"{path}/approve")

    assert status == 200, approved
    assert (approved["status"], approved["decidedBy"], len(approved["coverNeeds"])) == (
        "approved",
        "admin@a.edu",
        1,
    )
    status, again = call(world, "POST", f"{path}/approve")
    assert (status, again["code"]) == (409, "absence_already_approved")


def test_cancelling_an_absence_withdraws_its_offers_and_cancels_its_needs(world: World) -> None:
    offer = published_offer(world)
    status, need = call(world, "GET", f"/api/v1/cover/needs/{offer['needId']}")
    absence_path = f"/api/v1/absences/{need['absenceId']}"

    status, cancelled = call(world, "POST", f"{absence_path}/cancel", "a.other_faculty")

    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled"
    assert [n["status"] for n in cancelled["coverNeeds"]] == ["cancelled"]
    assert (
        call(world, "GET", f"/api/v1/cover/offers/{offer['id']}", "a.faculty")[1]["status"]
        == "withdrawn"
    )
    status, again = call(world, "POST", f"{absence_path}/cancel")
    assert (status, again["code"]) == (409, "absence_cancelled")
    status, late = call(world, "POST", f"/api/v1/cover/offers/{offer['id']}/accept", "a.faculty")
    assert (status, late["code"]) == (409, "offer_withdrawn")


# -- needs and candidates ---------------------------------------------------------------
def test_an_admin_ranks_the_candidates_with_their_reasons(world: World) -> None:
    need = the_need(world)

    status, ranking = call(world, "GET", f"/api/v1/cover/needs/{need['id']}/candidates")

    assert status == 200, ranking
    assert ranking["needId"] == need["id"]
    alice, admin = ranking["candidates"]
    assert (alice["facultyId"], alice["name"], admin["facultyId"]) == ("F001", "Alice", "ADM")
    assert alice["score"] > admin["score"]
    assert {r["rule"] for r in alice["reasons"]} >= {"teaches_section", "adjacent"}
    assert sum(r["points"] for r in alice["reasons"]) == alice["score"]
    assert ranking["unavailable"] == [{"facultyId": "F002", "name": "Bob", "reason": "absent"}]
    assert call(world, "GET", f"/api/v1/cover/needs/{need['id']}/candidates", "a.faculty")[0] == 403


def test_an_admin_lists_needs_by_status_and_cancels_one(world: World) -> None:
    need = the_need(world)

    def listed(**params: Any) -> list[str]:
        status, page = call(world, "GET", "/api/v1/cover/needs", params=params)
        assert status == 200, page
        return [n["id"] for n in page["items"]]

    assert listed(status="open") == [need["id"]]
    assert listed(status="covered,escalated") == []
    assert listed(status=["covered", "open"], **{"from": TUESDAY, "to": TUESDAY}) == [need["id"]]
    assert listed(absenceId=need["absenceId"]) == [need["id"]]
    status, bad = call(world, "GET", "/api/v1/cover/needs", params={"status": "lost"})
    assert (status, error_fields(bad)) == (422, {"status"})

    status, cancelled = call(world, "POST", f"/api/v1/cover/needs/{need['id']}/cancel")

    assert (status, cancelled["status"]) == (200, "cancelled")
    status, again = call(world, "POST", f"/api/v1/cover/needs/{need['id']}/cancel")
    assert (status, again["code"]) == (409, "need_cancelled")
    assert call(world, "GET", f"/api/v1/cover/needs/{need['id']}", "b.admin")[0] == 404


# -- plans and offers -------------------------------------------------------------------
def test_a_published_plan_offers_the_need_and_a_decline_moves_it_to_the_next_candidate(
    world: World,
) -> None:
    offer = published_offer(world)
    assert [o["id"] for o in offers_of(world, "a.faculty")] == [offer["id"]]
    assert offers_of(world, "a.other_faculty") == []
    assert offers_of(world, "a.faculty")[0]["reasons"] == offer["reasons"]

    status, answer = call(
        world,
        "POST",
        f"/api/v1/cover/offers/{offer['id']}/decline",
        "a.faculty",
        json={"reason": "marking exams"},
    )

    assert status == 200, answer
    assert (answer["offer"]["status"], answer["offer"]["declineReason"]) == (
        "declined",
        "marking exams",
    )
    following = answer["nextOffer"]
    assert (following["substituteId"], following["attempt"], following["planId"]) == (
        "ADM",
        2,
        None,
    )
    assert offers_of(world, "a.faculty")[0]["status"] == "declined"
    status, need = call(world, "GET", f"/api/v1/cover/needs/{offer['needId']}")
    assert (need["status"], [o["substituteId"] for o in need["offers"]]) == (
        "offered",
        ["F001", "ADM"],
    )


def test_when_every_candidate_declines_the_need_goes_back_to_the_admins(world: World) -> None:
    offer = published_offer(world)

    status, first = call(world, "POST", f"/api/v1/cover/offers/{offer['id']}/decline", "a.faculty")
    assert status == 200, first  # the body may be left out
    following = first["nextOffer"]
    status, last = call(world, "POST", f"/api/v1/cover/offers/{following['id']}/decline", "a.admin")

    assert (status, last["offer"]["status"], last["nextOffer"]) == (200, "declined", None)
    status, need = call(world, "GET", f"/api/v1/cover/needs/{offer['needId']}")
    assert need["status"] == "escalated"
    status, escalated = call(world, "GET", "/api/v1/cover/needs", params={"status": "escalated"})
    assert [n["id"] for n in escalated["items"]] == [offer["needId"]]


def test_accepting_makes_the_substitute_the_teacher_of_record(world: World) -> None:
    offer = published_offer(world)
    accept = f"/api/v1/cover/offers/{offer['id']}/accept"

    status, for_them = call(world, "POST", accept, "a.admin")
    assert (status, for_them["code"]) == (403, "forbidden")
    assert call(world, "GET", f"/api/v1/cover/offers/{offer['id']}", "a.other_faculty")[0] == 404
    assert call(world, "POST", accept, "a.other_faculty")[0] == 404

    status, answer = call(world, "POST", accept, "a.faculty")

    assert status == 200, answer
    assert (answer["offer"]["status"], answer["nextOffer"]) == ("accepted", None)
    status, need = call(world, "GET", f"/api/v1/cover/needs/{offer['needId']}")
    assert (need["status"], need["substituteId"]) == ("covered", "F001")
    status, again = call(world, "POST", accept, "a.faculty")
    assert (status, again["code"]) == (409, "offer_accepted")
    tz = ZoneInfo("Asia/Kolkata")
    world.clock.set(datetime(2026, 11, 17, 10, 0, tzinfo=tz).astimezone(ZoneInfo("UTC")))
    code = f"/api/v1/sessions/{need['sessionId']}/attendance-code"
    sign_in_again(world, faculty="alice@a.edu", other_faculty="bob@a.edu")  # Monday's expired
    status, opened = call(world, "POST", code, "a.faculty")
    assert status == 200, opened
    assert call(world, "POST", code, "a.other_faculty")[0] == 403


def test_an_admin_withdraws_an_offer_and_plans_are_drafts_until_published(world: World) -> None:
    offer = published_offer(world)
    status, plans = call(world, "GET", "/api/v1/cover/plans", params={"status": "published"})
    assert (status, len(plans["items"])) == (200, 1)
    plan_id = plans["items"][0]["id"]
    status, again = call(world, "POST", f"/api/v1/cover/plans/{plan_id}/publish")
    assert (status, again["code"]) == (409, "plan_published")
    assert call(world, "POST", f"/api/v1/cover/offers/{offer['id']}/cancel", "a.faculty")[0] == 403

    status, answer = call(world, "POST", f"/api/v1/cover/offers/{offer['id']}/cancel")

    assert (status, answer["offer"]["status"]) == (200, "withdrawn")
    assert call(world, "GET", f"/api/v1/cover/needs/{offer['needId']}")[1]["status"] == "open"
    status, draft = call(
        world, "POST", "/api/v1/cover/plans", json={"from": TUESDAY, "to": TUESDAY}
    )
    status, cancelled = call(world, "POST", f"/api/v1/cover/plans/{draft['id']}/cancel")
    assert (status, cancelled["status"]) == (200, "cancelled")
    status, read = call(world, "GET", f"/api/v1/cover/plans/{draft['id']}")
    assert (status, read) == (200, cancelled)


# -- analytics --------------------------------------------------------------------------
def test_analytics_come_as_json_and_as_a_workbook(world: World) -> None:
    offer = published_offer(world)
    call(world, "POST", f"/api/v1/cover/offers/{offer['id']}/accept", "a.faculty")
    uow = world.uow()
    with uow.for_institution(world.a.id):
        admin = uow.faculty.get(FacultyId("ADM"))
        uow.faculty.update(dataclasses.replace(admin, name=TRICKY_NAME))
        uow.commit()

    status, report = call(world, "GET", "/api/v1/cover/analytics", params=WEEK)

    assert status == 200, report
    assert (report["needs"], report["covered"], report["uncovered"], report["fillRate"]) == (
        1,
        1,
        0,
        "100.0",
    )
    assert report["byDay"] == [
        {"date": TUESDAY, "needs": 1, "covered": 1, "uncovered": 0, "fillRate": "100.0"}
    ]
    assert [b["needs"] for b in report["byLeadTime"]] == [0, 1, 0, 0]
    assert report["uncoveredNeeds"] == []
    assert report["load"][0] == {"facultyId": "F001", "name": "Alice", "covers": 1}
    assert report["loadDistribution"] == [
        {"covers": 0, "teachers": 2},
        {"covers": 1, "teachers": 1},
    ]

    answer = world.client.get(
        "/api/v1/cover/analytics",
        params=WEEK,
        headers={**world.headers("a.admin"), "Accept": XLSX_MEDIA_TYPE},
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "cover-analytics-2026-11-16-to-2026-11-22.xlsx" in answer.headers["content-disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == ["By day", "By lead time", "Load", "Uncovered"]
    by_day = list(workbook["By day"].iter_rows(values_only=True))
    assert by_day[0] == ("Date", "Needs", "Covered", "Uncovered", "Fill rate %")
    assert by_day[1][1:] == (1, 1, 0, 100)
    load = {row[0]: row for row in workbook["Load"].iter_rows(min_row=2, values_only=True)}
    assert load["F001"] == ("F001", "Alice", 1)
    assert load["ADM"][1] == "'" + TRICKY_NAME
    assert list(workbook["Uncovered"].iter_rows(min_row=2, values_only=True)) == []
    assert call(world, "GET", "/api/v1/cover/analytics", "a.faculty", params=WEEK)[0] == 403


# -- preferences and settings -----------------------------------------------------------
def test_an_admin_manages_substitute_preferences_and_an_exclusion_rules_a_teacher_out(
    world: World,
) -> None:
    status, preference = call(
        world,
        "POST",
        "/api/v1/cover/preferences",
        json={"substituteId": "F001", "kind": "excluded", "facultyId": "F002", "note": "no"},
    )
    assert status == 201, preference
    path = f"/api/v1/cover/preferences/{preference['id']}"
    need = the_need(world)

    status, ranking = call(world, "GET", f"/api/v1/cover/needs/{need['id']}/candidates")

    assert [c["facultyId"] for c in ranking["candidates"]] == ["ADM"]
    assert {"facultyId": "F001", "name": "Alice", "reason": "excluded"} in ranking["unavailable"]
    status, page = call(world, "GET", "/api/v1/cover/preferences", params={"kind": "excluded"})
    assert [p["id"] for p in page["items"]] == [preference["id"]]
    status, changed = call(
        world, "PATCH", path, json={"kind": "preferred", "facultyId": None, "sectionId": "E2-CSE-A"}
    )
    assert status == 200, changed
    assert (changed["kind"], changed["facultyId"], changed["sectionId"]) == (
        "preferred",
        None,
        "E2-CSE-A",
    )
    status, ranking = call(world, "GET", f"/api/v1/cover/needs/{need['id']}/candidates")
    assert "preferred" in {r["rule"] for r in ranking["candidates"][0]["reasons"]}
    assert call(world, "GET", path, "a.faculty")[0] == 403
    assert call(world, "DELETE", path)[0] == 204
    assert call(world, "GET", path)[0] == 404


def test_the_cover_settings_include_fairness_window_offer_expiry_and_approval(
    world: World,
) -> None:
    status, settings = call(
        world,
        "PATCH",
        "/api/v1/institution/settings",
        json={"cover": {"fairnessWindowDays": 7, "offerExpiryMinutes": 30}},
    )

    assert status == 200, settings
    assert settings["cover"] == {
        **settings["cover"],
        "fairnessWindowDays": 7,
        "offerExpiryMinutes": 30,
        "approvalRequired": False,
    }
    offer = published_offer(world)
    assert offer["expiresAt"] == "2026-11-16T04:05:00Z"


def test_bad_bodies_are_problems_naming_the_fields_in_camel_case(world: World) -> None:
    def fields(method: str, path: str, body: Any, who: str = "a.admin") -> set[str]:
        status, problem = call(world, method, path, who, json=body)
        assert status == 422, problem
        return error_fields(problem)

    absences = "/api/v1/absences"
    naive = {"start": f"{TUESDAY}T10:00:00", "end": BOB_AWAY["end"], "type": "sick"}
    assert fields("POST", absences, {**naive, "facultyId": "F002"}) == {"start"}
    assert fields("POST", absences, {**BOB_AWAY, "type": "holiday"}, "a.faculty") == {"type"}
    backwards = {"start": BOB_AWAY["end"], "end": BOB_AWAY["start"], "type": "sick"}
    assert fields("POST", absences, backwards, "a.faculty") == {"end"}
    assert fields("POST", absences, {**BOB_AWAY, "type": "sick"}) == {"facultyId"}
    status, unknown_field = call(
        world, "POST", absences, json={**BOB_AWAY, "type": "sick", "faculty_id": "F002"}
    )
    assert status == 422
    assert "faculty_id" in unknown_field["errors"][0]["message"]
    plans = "/api/v1/cover/plans"
    assert fields("POST", plans, {"from": TUESDAY, "to": "2026-11-16"}) == {"to"}
    status, missing = call(world, "POST", plans, json={"from": TUESDAY})
    assert status == 422
    assert "`to`" in missing["errors"][0]["message"]
    two_scopes = {
        "substituteId": "F001",
        "kind": "preferred",
        "facultyId": "F002",
        "sectionId": "X",
    }
    assert "facultyId" in fields("POST", "/api/v1/cover/preferences", two_scopes)
    unknown = {"substituteId": "NOPE", "kind": "preferred", "sectionId": "E2-CSE-A"}
    assert fields("POST", "/api/v1/cover/preferences", unknown) == {"substituteId"}
    settings = {"cover": {"offerExpiryMinutes": 0}}
    assert fields("PATCH", "/api/v1/institution/settings", settings) == {"cover.offerExpiryMinutes"}
    offer = published_offer(world)
    decline = f"/api/v1/cover/offers/{offer['id']}/decline"
    assert fields("POST", decline, {"reason": "x" * 501}, "a.faculty") == {"reason"}
