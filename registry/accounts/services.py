"""Account use cases: create, authenticate, change password, demo accounts.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's recommended profile): memory-hard,
so a stolen hash table costs an attacker memory as well as time per guess, unlike PBKDF2 or SHA-based
schemes that GPUs race through. Hashes carry their own parameters, so raising them later only needs a
re-hash at the next successful login (check_needs_rehash below).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from sqlalchemy import func, select

from registry.accounts.models import Role, User
from registry.certificates.identifiers import normalise_uscc
from registry.certificates.models import Certificate, Company
from registry.certificates.rules import CertificateStatus
from registry.errors import NotFound, ValidationError
from registry.extensions import db

EMAIL_SHAPE = re.compile(r"^[^@\s]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    """An Argon2id hash string (parameters and salt included)."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(raw: str) -> str:
    """Lower-cased address with a plain syntax check. No DNS lookup and no list of reserved domains:
    staff may sign in with an intranet domain, and the demo uses demo.invalid."""
    address = (raw or "").strip().lower()
    if len(address) > 254 or not EMAIL_SHAPE.match(address):
        raise ValidationError(_("This is not a valid e-mail address."),
                              fields={"email": _("Enter a valid e-mail address.")})
    return address


def check_password_strength(password: str, email: str = "") -> None:
    """Length is what counts (NIST SP 800-63B): at least 10 characters, not the e-mail address."""
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(_("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH),
                              fields={"password": _("Too short.")})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(_("The password must have at most %(n)s characters.", n=MAX_PASSWORD_LENGTH),
                              fields={"password": _("Too long.")})
    if email and password.strip().lower() == email.lower():
        raise ValidationError(_("The password must not be the e-mail address."), fields={"password": _("Too easy.")})


def create_account(*, email: str, role: str, password: str, company_uscc: str | None = None) -> User:
    """Create a staff or company account.

    Raises:
        ValidationError: bad e-mail, role, password or company; e-mail already used.
        NotFound: no company has that USCC.
    """
    email = normalise_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(_("Unknown role."), fields={"role": ", ".join(r.value for r in Role)}) from None
    check_password_strength(password, email)
    if db.session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
        raise ValidationError(_("An account with this e-mail address already exists."), fields={"email": email})
    company = None
    if role is Role.COMPANY:
        if not company_uscc:
            raise ValidationError(_("A company account needs the company's credit code."), fields={"company": ""})
        company = company_by_uscc(company_uscc)
    elif company_uscc:
        raise ValidationError(_("Only company accounts are bound to a company."), fields={"company": company_uscc})
    user = User(email=email, role=role.value, password_hash=hash_password(password), company=company, active=True)
    db.session.add(user)
    db.session.flush()
    return user


def company_by_uscc(raw: str) -> Company:
    """Raises ValidationError (malformed code) or NotFound."""
    try:
        code = normalise_uscc(raw)
    except ValueError:
        raise ValidationError(_("This is not a valid unified social credit code."), fields={"company": raw}) from None
    company = db.session.scalar(select(Company).where(Company.uscc == code))
    if company is None:
        raise NotFound(_("No company with this credit code is in the register."))
    return company


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (the caller says the same thing in every case)."""
    address = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == address)) if address else None
    if user is None or not user.active:
        password_matches(_DUMMY_HASH, password or "")
        return None
    if not password_matches(user.password_hash, password or ""):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(user: User, *, current: str, new: str) -> None:
    """Raises ValidationError when the current password is wrong or the new one too weak."""
    if not password_matches(user.password_hash, current or ""):
        raise ValidationError(_("The current password is not right."), fields={"current": _("Not right.")})
    check_password_strength(new, user.email)
    user.password_hash = hash_password(new)
    # Whoever knew the old password may hold a session: every other browser is signed out.
    from registry.accounts.sessions import end_all
    end_all(user, keep_current=True)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    password: str
    company: str | None
    created: bool


DEMO_PASSWORD_SUFFIX = "-demo-2026"


def ensure_demo_accounts() -> list[DemoLogin]:
    """One account per role with a known password, created once; re-running resets their passwords only.

    The company account is bound to the company of the first valid certificate (none if the register is
    empty). Refused in production, where known passwords would be a hole.
    """
    if os.environ.get("REGISTRY_ENV") == "production":
        raise ValidationError(_("Demo accounts are not created in production."))
    company = _first_valid_company()
    logins = []
    for role in Role:
        if role is Role.COMPANY and company is None:
            continue
        email = f"{role.value}@demo.invalid"
        password = role.value + DEMO_PASSWORD_SUFFIX
        user = db.session.scalar(select(User).where(User.email == email))
        created = user is None
        if created:
            user = User(email=email, role=role.value, active=True)
            db.session.add(user)
        user.password_hash = hash_password(password)
        if role is Role.COMPANY:
            user.company = company
        logins.append(DemoLogin(email, role.value, password, company.name if role is Role.COMPANY else None, created))
    db.session.flush()
    return logins


def _first_valid_company() -> Company | None:
    from registry import clock
    from registry.certificates.services import status_condition
    return db.session.scalar(
        select(Company).join(Certificate, Certificate.company_id == Company.id)
        .where(status_condition(CertificateStatus.VALID, clock.today()))
        .order_by(Certificate.id).limit(1))


def set_active(email: str, active: bool) -> User:
    """Disable (or re-enable) an account; a disabled account's open sessions stop working at the next request.

    Raises:
        NotFound: no account has that e-mail.
    """
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise NotFound(_("No account has this e-mail address."))
    user.active = active
    if not active:
        from registry.accounts.sessions import end_all
        end_all(user)
    return user
