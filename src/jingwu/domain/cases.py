"""Cases (案件): an incident for which the station files a criminal or administrative case (立案),
and later solves it (破案). CompStat counts cases filed and solved by these two moments, which is
why they are kept apart from the incident's own stages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jingwu.errors import Conflict, ValidationFailed


class CaseKind(StrEnum):
    CRIMINAL = "criminal"  # 刑事案件
    ADMINISTRATIVE = "administrative"  # 行政（治安）案件


#: A case number as stations write them: letters, digits and dashes (A2301032025060001).
_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")


@dataclass(frozen=True, slots=True)
class Case:
    incident_id: str
    case_number: str
    kind: CaseKind
    filed_at: datetime
    filed_by: str | None
    solved_at: datetime | None = None
    solved_by: str | None = None


def check_case_number(text: str) -> str:
    number = text.strip()
    if not _NUMBER.fullmatch(number):
        raise ValidationFailed(
            f"case number {text!r}: 1–40 letters, digits and dashes, starting with a letter or digit",
            code="bad_case_number",
        )
    return number


def file_case(
    incident_id: str, *, number: str, kind: CaseKind, now: datetime, actor: str | None, existing: Case | None
) -> Case:
    """A case filed for an incident; one incident, one case."""
    if existing is not None:
        raise Conflict(
            f"incident {incident_id} already has case {existing.case_number}",
            code="case_exists",
            case_number=existing.case_number,
        )
    return Case(incident_id, check_case_number(number), kind, now, actor)


def solve_case(case: Case | None, incident_id: str, *, now: datetime, actor: str | None) -> Case:
    """The case solved (破案); solving twice, or a case never filed, is refused."""
    if case is None:
        raise Conflict(f"incident {incident_id} has no case to solve: file one first", code="no_case")
    if case.solved_at is not None:
        raise Conflict(
            f"case {case.case_number} was solved at {case.solved_at:%Y-%m-%d %H:%M}", code="case_solved"
        )
    return Case(
        case.incident_id,
        case.case_number,
        case.kind,
        case.filed_at,
        case.filed_by,
        max(now, case.filed_at),
        actor,
    )


__all__ = ["Case", "CaseKind", "check_case_number", "file_case", "solve_case"]
