"""Identifiers of the list: resident ID numbers, unified social credit codes, case numbers.

Pure functions (DOMAIN §5): no I/O, no clock. Every refusal is an :class:`IdentifierError` whose
message names what was checked, the value, and what is wrong, in that order, e.g.
``resident ID 110105194912310028: check character should be X, got 8``.

- Resident ID number, GB 11643: 6-digit area code, birth date ``YYYYMMDD``, 3-digit sequence
  (odd = male), check character (ISO 7064 MOD 11-2).
- Unified social credit code, GB 32100-2015: 18 characters of ``0123456789ABCDEFGHJKLMNPQRTUWXY``;
  positions 9-17 are the organisation code of GB 11714 with its own check character at 17;
  position 18 checks all 17 before it (MOD 31).
- Case number (案号), SPC rules on case numbers (2016): ``(year)`` + court code + optional
  special-trial code + case-type code + sequence + ``号``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

__all__ = [
    "CASE_TYPE_CODES",
    "COURT_ABBREVIATIONS",
    "CREDIT_CODE_CHARSET",
    "ENFORCEMENT_TYPE_CODES",
    "PROVINCE_CODES",
    "SPECIAL_TRIAL_CODES",
    "SUPREME_COURT_CODE",
    "CaseNumber",
    "IdentifierError",
    "credit_code_check_char",
    "make_case_no",
    "make_credit_code",
    "make_resident_id",
    "mask_resident_id",
    "org_code_check_char",
    "parse_case_no",
    "resident_id_birth_date",
    "resident_id_check_char",
    "resident_id_sex",
    "validate_credit_code",
    "validate_resident_id",
]


class IdentifierError(ValueError):
    """An identifier failed a format or checksum rule; the message says which, for a person."""


def _fail(what: str, value: str, problem: str) -> IdentifierError:
    return IdentifierError(f"{what} {value}: {problem}")


# --- resident ID number (GB 11643) ----------------------------------------------------------

_RID = "resident ID"
_RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RID_CHECK = "10X98765432"  # indexed by (weighted sum mod 11)
_DIGITS = frozenset("0123456789")

# First two digits of an area code: the province-level divisions of GB/T 2260 (71 Taiwan,
# 81 Hong Kong, 82 Macao).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)
_PROVINCE_RANGES = "11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82"
_EARLIEST_BIRTH_YEAR = 1900


def _weighted_check(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _RID_WEIGHTS, strict=True))
    return _RID_CHECK[total % 11]


def resident_id_check_char(first17: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise _fail(_RID, first17, "the first 17 characters must be 17 digits")
    return _weighted_check(first17)


@lru_cache(maxsize=16_384)  # a subject's id is checked at every event naming it
def validate_resident_id(value: str) -> str:
    """Return ``value`` if it is a well-formed resident ID number, else raise IdentifierError.

    Only an uppercase ``X`` is accepted as the check character.
    """
    if len(value) != 18:
        raise _fail(_RID, value, f"must be 18 characters, got {len(value)}")
    for position, ch in enumerate(value[:17], start=1):
        if ch not in _DIGITS:
            raise _fail(_RID, value, f"character {ch!r} at position {position} is not a digit")
    last = value[17]
    if last == "x":
        raise _fail(_RID, value, "check character must be an uppercase X, got lowercase x")
    if last not in _DIGITS and last != "X":
        raise _fail(_RID, value, f"check character must be a digit or X, got {last!r}")
    province = value[:2]
    if province not in PROVINCE_CODES:
        raise _fail(
            _RID,
            value,
            f"area code {value[:6]} does not start with a province code ({_PROVINCE_RANGES})",
        )
    _birth_date(value)
    expected = _weighted_check(value[:17])
    if last != expected:
        raise _fail(_RID, value, f"check character should be {expected}, got {last}")
    return value


def _birth_date(value: str) -> date:
    text = value[6:14]
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise _fail(_RID, value, f"birth date {text} is not a real date") from None
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise _fail(_RID, value, f"birth date {text} is before {_EARLIEST_BIRTH_YEAR}")
    return born


def resident_id_birth_date(value: str) -> date:
    """The birth date a (validated) resident ID number carries."""
    return _birth_date(validate_resident_id(value))


def resident_id_sex(value: str) -> Literal["male", "female"]:
    """The sex a (validated) resident ID number carries: odd 17th digit = male."""
    return "male" if int(validate_resident_id(value)[16]) % 2 == 1 else "female"


def mask_resident_id(value: str) -> str:
    """Mask the birth month and day for public display: ``3423011964****3224``.

    Only the length is checked, so that a stored number with a bad checksum can still be shown
    masked; it is never shown whole.
    """
    if len(value) != 18:
        raise _fail(_RID, value, f"must be 18 characters, got {len(value)}")
    return value[:10] + "****" + value[14:]


def make_resident_id(area: str, birth: date, sequence: int) -> str:
    """Build a valid resident ID: ``sequence`` 0..999, odd for a man, even for a woman."""
    if len(area) != 6 or not set(area) <= _DIGITS:
        raise IdentifierError(f"resident ID area code {area}: must be 6 digits")
    if not 0 <= sequence <= 999:
        raise IdentifierError(f"resident ID sequence {sequence}: must be between 0 and 999")
    first17 = f"{area}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return validate_resident_id(first17 + _weighted_check(first17))


# --- unified social credit code (GB 32100-2015) and organisation code (GB 11714) -----------

_USCC = "credit code"
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_VALUE = {ch: i for i, ch in enumerate(_ORG_CHARSET)}  # digits 0-9, A=10 .. Z=35
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _uscc_check(first17: str) -> str:
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def _org_check(first8: str) -> str:
    total = sum(_ORG_VALUE[ch] * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code, from its first 17."""
    if len(first17) != 17 or any(ch not in _USCC_VALUE for ch in first17):
        raise _fail(
            _USCC,
            first17,
            f"the first 17 characters must be 17 characters of {CREDIT_CODE_CHARSET}",
        )
    return _uscc_check(first17)


def org_code_check_char(first8: str) -> str:
    """The check character (``0``-``9`` or ``X``) of a GB 11714 organisation code body."""
    if len(first8) != 8 or any(ch not in _ORG_VALUE for ch in first8):
        raise IdentifierError(
            f"organisation code {first8}: must be 8 characters of digits and capital letters"
        )
    return _org_check(first8)


@lru_cache(maxsize=16_384)  # a subject's id is checked at every event naming it
def validate_credit_code(value: str) -> str:
    """Return ``value`` if it is a well-formed unified social credit code, else raise."""
    if len(value) != 18:
        raise _fail(_USCC, value, f"must be 18 characters, got {len(value)}")
    for position, ch in enumerate(value, start=1):
        if ch not in _USCC_VALUE:
            raise _fail(
                _USCC,
                value,
                f"character {ch!r} at position {position} is not allowed (credit codes use "
                f"digits and the capital letters ABCDEFGHJKLMNPQRTUWXY)",
            )
    org_expected = _org_check(value[8:16])
    if value[16] != org_expected:
        raise _fail(
            _USCC,
            value,
            f"organisation code check character at position 17 should be {org_expected}, "
            f"got {value[16]}",
        )
    expected = _uscc_check(value[:17])
    if value[17] != expected:
        raise _fail(_USCC, value, f"check character should be {expected}, got {value[17]}")
    return value


def make_credit_code(registration_dept: str, org_type: str, area: str, org_code8: str) -> str:
    """Build a valid credit code: department (1), type (1), area (6), organisation code (8).

    The organisation code's check character (position 17) and the code's own check character
    (position 18) are computed.
    """
    if len(registration_dept) != 1 or len(org_type) != 1:
        raise IdentifierError(
            f"credit code prefix {registration_dept}{org_type}: registration department and "
            f"organisation type must be one character each"
        )
    if len(area) != 6 or not set(area) <= _DIGITS:
        raise IdentifierError(f"credit code area code {area}: must be 6 digits")
    if len(org_code8) != 8 or any(ch not in _USCC_VALUE for ch in org_code8):
        raise IdentifierError(
            f"organisation code {org_code8}: must be 8 characters of {CREDIT_CODE_CHARSET}"
        )
    first17 = f"{registration_dept}{org_type}{area}{org_code8}{_org_check(org_code8)}"
    if any(ch not in _USCC_VALUE for ch in first17):
        raise IdentifierError(
            f"credit code prefix {registration_dept}{org_type}: characters must be from "
            f"{CREDIT_CODE_CHARSET}"
        )
    return validate_credit_code(first17 + _uscc_check(first17))


# --- case numbers (SPC rules on case numbers, 2016) ----------------------------------------

_CASE = "case number"
SUPREME_COURT_CODE = "最高法"
# Province-level abbreviations used as court codes, plus 兵 (XPCC courts) and 军 (military).
COURT_ABBREVIATIONS = "京津冀晋内辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新兵军"
ENFORCEMENT_TYPE_CODES: frozenset[str] = frozenset(
    {"执", "执恢", "执保", "执异", "执复", "执监", "执协", "执他"}
)
# Accepted generously: the common criminal, civil, administrative, compensation, preservation,
# bankruptcy, liquidation, sanction and judicial-aid codes besides enforcement.
CASE_TYPE_CODES: frozenset[str] = ENFORCEMENT_TYPE_CODES | frozenset(
    {
        # criminal
        "刑初", "刑终", "刑核", "刑更", "刑医", "刑医解", "刑没", "刑监", "刑申", "刑抗", "刑再",
        "刑他", "刑辖", "刑止",
        # civil
        "民初", "民终", "民监", "民申", "民抗", "民再", "民撤", "民特", "民特监", "民催", "民督",
        "民督监", "民他", "民辖", "民辖终", "民辖监", "民算", "民诉前调",
        # administrative
        "行初", "行终", "行监", "行申", "行抗", "行再", "行审", "行审复", "行他", "行辖",
        "行辖终", "行赔初", "行赔终", "行赔监", "行赔申", "行赔抗", "行赔再", "行赔他",
        # state compensation
        "法赔", "委赔", "委赔监", "委赔提", "赔他",
        # preservation
        "财保", "证保", "行保", "行保复",
        # bankruptcy and compulsory liquidation
        "破申", "破", "破终", "破监", "破他", "强清申", "强清", "强清终",
        # judicial sanctions and judicial aid
        "司惩", "司惩复", "司救刑", "司救民", "司救行", "司救执", "司救访", "司救他",
    }
)  # fmt: skip
# One-character special-trial codes (e.g. 知 for intellectual property).
SPECIAL_TRIAL_CODES: frozenset[str] = frozenset({"知", "海", "环", "金", "铁"})
_MIN_CASE_YEAR, _MAX_CASE_YEAR = 1990, 2100
_OPEN = "(（"
_CLOSE = ")）"
_ASCII_DIGITS = re.compile(r"[0-9]*")


@dataclass(frozen=True)
class CaseNumber:
    """A parsed case number (案号)."""

    year: int
    court_code: str
    special: str | None
    type_code: str
    sequence: int

    @property
    def is_enforcement(self) -> bool:
        """True for the enforcement codes (执, 执恢, 执保, and the review codes 执异 .. 执他)."""
        return self.type_code in ENFORCEMENT_TYPE_CODES

    def __str__(self) -> str:
        special = self.special or ""
        return f"({self.year}){self.court_code}{special}{self.type_code}{self.sequence}号"


@lru_cache(maxsize=16_384)  # a subject's id is checked at every event naming it
def parse_case_no(value: str) -> CaseNumber:
    """Parse a case number such as ``(2024)赣0483执123号`` or ``（2024）赣0483执恢12号``.

    ASCII and full-width parentheses are both accepted.
    """
    if not value or value[0] not in _OPEN:
        raise _fail(_CASE, value, "must start with the year in parentheses, e.g. (2024)")
    if len(value) < 6 or value[5] not in _CLOSE or not set(value[1:5]) <= _DIGITS:
        raise _fail(_CASE, value, "must start with a 4-digit year in parentheses, e.g. (2024)")
    year = int(value[1:5])
    if not _MIN_CASE_YEAR <= year <= _MAX_CASE_YEAR:
        raise _fail(_CASE, value, f"year {year} is outside {_MIN_CASE_YEAR}-{_MAX_CASE_YEAR}")
    rest = value[6:]
    if rest.startswith(SUPREME_COURT_CODE):
        court_code = SUPREME_COURT_CODE
    elif rest and rest[0] in COURT_ABBREVIATIONS:
        match = _ASCII_DIGITS.match(rest, 1)
        digits = match.group() if match else ""
        court_code = rest[: 1 + len(digits)]
        if len(digits) not in (0, 2, 4):
            if rest[1 + len(digits) :] == "号":
                raise _fail(_CASE, value, "case-type code is missing")
            raise _fail(
                _CASE,
                value,
                f"court code {court_code} must be a province abbreviation followed by "
                f"nothing, 2 digits or 4 digits",
            )
    else:
        got = rest[:1] or "nothing"
        raise _fail(
            _CASE,
            value,
            f"court code must start with a province abbreviation or {SUPREME_COURT_CODE}, "
            f"got {got}",
        )
    rest = rest[len(court_code) :]
    if not rest.endswith("号"):
        raise _fail(_CASE, value, "must end with 号")
    body = rest[:-1]
    split = len(body)
    while split > 0 and body[split - 1] in _DIGITS:
        split -= 1
    code, digits = body[:split], body[split:]
    if not code:
        raise _fail(_CASE, value, "case-type code is missing")
    if not digits:
        raise _fail(_CASE, value, "sequence is missing before 号")
    if code in CASE_TYPE_CODES:
        special, type_code = None, code
    elif code[0] in SPECIAL_TRIAL_CODES and code[1:] in CASE_TYPE_CODES:
        special, type_code = code[0], code[1:]
    else:
        raise _fail(_CASE, value, f"case-type code {code} is not known")
    if int(digits) == 0:
        raise _fail(_CASE, value, "sequence must be a positive number")
    if digits[0] == "0":
        raise _fail(_CASE, value, f"sequence {digits} must not start with 0")
    return CaseNumber(
        year=year,
        court_code=court_code,
        special=special,
        type_code=type_code,
        sequence=int(digits),
    )


def make_case_no(
    year: int, court_code: str, type_code: str, sequence: int, special: str | None = None
) -> str:
    """Build a case number with ASCII parentheses and check it: ``(2024)赣0483执123号``."""
    text = str(CaseNumber(year, court_code, special, type_code, sequence))
    parsed = parse_case_no(text)
    if (parsed.court_code, parsed.special, parsed.type_code) != (court_code, special, type_code):
        raise _fail(_CASE, text, "court, special-trial and case-type codes do not read back")
    return text
