"""Account administration (admins only): list the accounts, change a role, jurisdiction, station,
unit or whether an account is disabled, reset a password, end every session of a user (a lost or
stolen phone), lift a lock-out after failed log-ins. Each change is written to the audit log with
the administrator and their address; see
:meth:`jingwu.service.auth.accounts.AccountService.update_user` for what ends a user's sessions
and what is refused. Accounts are created with ``jingwu user-add`` / ``device-add``, not here.

The POSTs take an ``Idempotency-Key`` like every other command: the key is stored in the
change's own transaction (``AccountService``), and the answer once it has been sent. These changes
are not dispatch decisions, so no answer is rendered inside the transaction (``answer_with``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from jingwu.api.deps import ServicesDep, client_address, needs
from jingwu.api.schemas.requests import ACCOUNT_NAME, PasswordReset, UserChange
from jingwu.api.schemas.responses import SessionsEndedOut, UnlockedOut, UserOut
from jingwu.composition import Services
from jingwu.domain.access import Jurisdiction, Permission, Principal
from jingwu.errors import NotFound, ValidationFailed
from jingwu.service.auth import UserInfo

router = APIRouter(prefix="/api/users", tags=["users"])

UserAdmin = Annotated[Principal, Depends(needs(Permission.USER_ADMIN))]
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=ACCOUNT_NAME)]
# Account lists and changes name people, roles and places: no cache, shared or private, keeps them.
_NO_STORE = "no-store"


def _out(user: UserInfo) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=str(user.role),
        jurisdiction=str(user.jurisdiction),
        station_id=user.station_id,
        unit_id=user.unit_id,
        disabled=user.disabled,
        totp=user.totp,
        locked_until=user.locked_until.isoformat() if user.locked_until else None,
        created_at=user.created_at.isoformat(),
    )


@router.get("", response_model=list[UserOut])
def list_users(principal: UserAdmin, response: Response, services: ServicesDep) -> list[UserOut]:
    """Every account, by user name, with its role, jurisdiction, second factor and standing."""
    response.headers["Cache-Control"] = _NO_STORE
    return [_out(u) for u in services.auth.accounts.list_users()]


def _station(services: Services, station_id: str) -> str:
    if station_id not in services.dispatch.district_of:
        raise NotFound(f"no station {station_id!r}", code="station_not_found", station_id=station_id)
    return station_id


@router.patch("/{username}", response_model=UserOut)
def change_user(
    username: Username,
    body: UserChange,
    principal: UserAdmin,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> UserOut:
    """Change an account's role, jurisdiction, station, unit or whether it is disabled. A change
    of role or jurisdiction, or disabling, ends the user's sessions at once (their next request
    answers 401 bad_token). Refused: the last enabled admin's demotion or disabling (409
    last_admin); a person made a device or a device a person (409 device_role_fixed)."""
    given = body.model_fields_set
    jurisdiction = None
    if body.jurisdiction is not None:
        try:
            jurisdiction = Jurisdiction.parse(body.jurisdiction)
        except ValueError as exc:
            raise ValidationFailed(
                str(exc), code="bad_jurisdiction", jurisdiction=body.jurisdiction
            ) from None
    station_id: str | None = None
    if body.station_id is not None:
        station_id = _station(services, body.station_id)
    if body.unit_id is not None:
        unit = services.dispatch.get_unit(body.unit_id)  # 404 unit_not_found
        if "station_id" not in given:
            # An officer bound to a unit belongs to its station, as with `jingwu user-add --unit`.
            station_id, given = unit.station_id, given | {"station_id"}
    services.auth.accounts.update_user(
        username,
        role=body.role,
        jurisdiction=jurisdiction,
        station_id=station_id if "station_id" in given else ...,
        unit_id=body.unit_id if "unit_id" in given else ...,
        disabled=body.disabled,
        actor=principal.username,
        source=client_address(request),
    )
    response.headers["Cache-Control"] = _NO_STORE
    return _out(services.auth.accounts.user_info(username))


@router.post("/{username}/password", response_model=UserOut)
def reset_password(
    username: Username,
    body: PasswordReset,
    principal: UserAdmin,
    request: Request,
    response: Response,
    services: ServicesDep,
) -> UserOut:
    """Set a user's password (a forgotten one, or one that may be known to others); every session
    of theirs ends. The password rules apply (422 weak_password). A device has no password (422
    device_has_no_password)."""
    services.auth.accounts.set_password(
        username, body.password, actor=principal.username, source=client_address(request)
    )
    response.headers["Cache-Control"] = _NO_STORE
    return _out(services.auth.accounts.user_info(username))


@router.post("/{username}/sessions/end", response_model=SessionsEndedOut)
def end_sessions(
    username: Username, principal: UserAdmin, request: Request, services: ServicesDep
) -> SessionsEndedOut:
    """End every live session of the user, and a device's key (a lost or stolen phone or device).
    The user may log in again; to stop that, disable the account (PATCH with disabled: true)."""
    ended = services.auth.accounts.end_sessions(
        username, actor=principal.username, source=client_address(request)
    )
    return SessionsEndedOut(ended=ended)


@router.post("/{username}/unlock", response_model=UnlockedOut)
def unlock(username: Username, principal: UserAdmin, request: Request, services: ServicesDep) -> UnlockedOut:
    """Lift every lock-out of the account after failed log-ins: each address that was locked out
    (or counting failures) may try again at once. The owner is still told of the failures at the
    next log-in. Audited as auth.unlocked."""
    unlocked = services.auth.logins.unlock(username, actor=principal.username, source=client_address(request))
    return UnlockedOut(unlocked=unlocked)


__all__ = ["router"]
