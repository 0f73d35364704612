"""The whole cover loop over HTTP on PostgreSQL (as the API's login, row-level security on):
absence → needs → plan → publish → decline → next candidate → expiry → next → accept →
the substitute opens attendance and a student checks in → the fill rate counts it; and
cancelling another absence withdraws its offers.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ams_adapters.identity import JwtAccessTokens
from ams_adapters.memory import SeededRandomSource, SystemRandomSource
from ams_core.domain import DeviceBinding, DeviceId, Faculty, FacultyId, SubjectCode
from ams_core.testing.builders import MONDAY, OPERATOR
from ams_core.use_cases import (
    ExpireCoverOffers,
    ExpireCoverOffersCommand,
    IssueLocalToken,
    IssueLocalTokenCommand,
    SignInLifetimes,
)
from tests.http.conftest import SECRET, World

pytestmark = pytest.mark.postgres

TZ = ZoneInfo("Asia/Kolkata")
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
DEVICE = "device-cover-0001"


def _at(world: World, day: date, hour: int, minute: int = 0) -> None:
    world.clock.set(datetime.combine(day, time(hour, minute), tzinfo=TZ))


def _add_teachers_and_a_phone(world: World) -> None:
    """Carol (CSE, CS101), Dave (PHY, CS101) and Erin (CSE): free on Tuesday at 09:00; the
    first student's phone is bound.
    """
    college = world.a
    people = [
        Faculty(
            FacultyId("F003"),
            college.id,
            "Carol",
            "carol@a.edu",
            "CSE",
            frozenset({SubjectCode("CS101")}),
        ),
        Faculty(
            FacultyId("F004"),
            college.id,
            "Dave",
            "dave@a.edu",
            "PHY",
            frozenset({SubjectCode("CS101")}),
        ),
        Faculty(FacultyId("F005"), college.id, "Erin", "erin@a.edu", "CSE"),
    ]
    uow = world.uow()
    with uow.for_institution(college.id):
        for faculty in people:
            uow.faculty.add(faculty)
        student = college.students[0]
        uow.devices.add(DeviceBinding(college.id, student.id, DeviceId(DEVICE), world.clock.now()))
        uow.commit()


def _as(world: World, who: str) -> dict[str, str]:
    """A fresh token for ``who`` (a first name, ``admin`` or ``student``) at the clock's now:
    the loop spans days, longer than a token lives.
    """
    emails = {"admin": world.a.admin_email, "student": world.a.students[0].email}
    issue = IssueLocalToken(
        world.uow(),
        JwtAccessTokens(SECRET, clock=world.clock),
        world.clock,
        SystemRandomSource(),
        SignInLifetimes(),
    )
    token = issue(IssueLocalTokenCommand(OPERATOR, emails.get(who, f"{who}@a.edu")))
    return {"Authorization": f"Bearer {token.access_token}"}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_the_whole_cover_loop_on_postgresql(pg_world: World) -> None:
    world = pg_world
    client = world.client
    _add_teachers_and_a_phone(world)
    _at(world, MONDAY, 12)
    admin = _as(world, "admin")

    # alice reports she is away all Tuesday: her 09:00 CS101 class needs cover
    absence = _ok(
        client.post(
            "/api/v1/absences",
            headers=_as(world, "alice"),
            json={
                "start": f"{TUESDAY}T00:00:00+05:30",
                "end": f"{WEDNESDAY}T00:00:00+05:30",
                "type": "sick",
                "note": "flu",
            },
        ),
        201,
    )
    [need] = absence["coverNeeds"]
    ranked = _ok(client.get(f"/api/v1/cover/needs/{need['id']}/candidates", headers=admin))
    assert [c["facultyId"] for c in ranked["candidates"]][:3] == ["F003", "F004", "F005"]
    assert {"rule": "qualified", "points": 40} in ranked["candidates"][0]["reasons"]

    plan = _ok(
        client.post(
            "/api/v1/cover/plans", headers=admin, json={"from": str(TUESDAY), "to": str(TUESDAY)}
        ),
        201,
    )
    assert [a["substituteId"] for a in plan["assignments"]] == ["F003"]
    published = _ok(client.post(f"/api/v1/cover/plans/{plan['id']}/publish", headers=admin))
    [first] = published["offers"]

    # carol declines: dave is offered the class next
    declined = _ok(
        client.post(
            f"/api/v1/cover/offers/{first['id']}/decline",
            headers=_as(world, "carol"),
            json={"reason": "exam duty"},
        )
    )
    second = declined["nextOffer"]
    assert (second["substituteId"], second["attempt"]) == ("F004", 2)

    # dave lets it expire: the scheduled job offers it to erin
    _at(world, MONDAY, 15)
    admin = _as(world, "admin")
    swept = ExpireCoverOffers(world.uow(), world.clock, SeededRandomSource(5))(
        ExpireCoverOffersCommand()
    )
    assert (swept.expired, swept.offered_next) == (1, 1)
    erin_offers = _ok(client.get("/api/v1/cover/offers?status=offered", headers=_as(world, "erin")))
    [third] = erin_offers["items"]
    assert third["attempt"] == 3

    accepted = _ok(
        client.post(f"/api/v1/cover/offers/{third['id']}/accept", headers=_as(world, "erin"))
    )
    assert accepted["offer"]["status"] == "accepted"

    # on Tuesday erin opens attendance for the class and a student checks in
    _at(world, TUESDAY, 9, 2)
    admin = _as(world, "admin")
    code = _ok(
        client.post(
            f"/api/v1/sessions/{need['sessionId']}/attendance-code", headers=_as(world, "erin")
        )
    )["code"]
    checked_in = _ok(
        client.post(
            f"/api/v1/sessions/{need['sessionId']}/check-in",
            headers=_as(world, "student"),
            json={"code": code, "deviceId": DEVICE},
        )
    )
    assert checked_in["status"] == "present"

    # the fill-rate report counts the covered class
    report = _ok(client.get(f"/api/v1/cover/analytics?from={TUESDAY}&to={TUESDAY}", headers=admin))
    assert (report["needs"], report["covered"]) == (1, 1)
    [tuesday] = report["byDay"]
    assert (tuesday["date"], tuesday["needs"], tuesday["covered"]) == (str(TUESDAY), 1, 1)

    # bob's Wednesday absence gets an offer out; cancelling the absence withdraws it
    bob_absence = _ok(
        client.post(
            "/api/v1/absences",
            headers=admin,
            json={
                "facultyId": "F002",
                "start": f"{WEDNESDAY}T08:00:00+05:30",
                "end": f"{WEDNESDAY}T12:00:00+05:30",
                "type": "official_duty",
            },
        ),
        201,
    )
    wednesday = _ok(
        client.post(
            "/api/v1/cover/plans",
            headers=admin,
            json={"from": str(WEDNESDAY), "to": str(WEDNESDAY)},
        ),
        201,
    )
    out = _ok(client.post(f"/api/v1/cover/plans/{wednesday['id']}/publish", headers=admin))[
        "offers"
    ]
    assert out
    _ok(client.post(f"/api/v1/absences/{bob_absence['id']}/cancel", headers=admin))
    for offer in out:
        again = _ok(client.get(f"/api/v1/cover/offers/{offer['id']}", headers=admin))
        assert again["status"] == "withdrawn"
