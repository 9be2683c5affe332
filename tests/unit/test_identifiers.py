"""Identifiers: resident ID numbers, credit codes, case numbers (DOMAIN §5)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shixin.domain.identifiers import (
    CREDIT_CODE_CHARSET,
    ENFORCEMENT_TYPE_CODES,
    CaseNumber,
    IdentifierError,
    credit_code_check_char,
    make_case_no,
    make_credit_code,
    make_resident_id,
    mask_resident_id,
    org_code_check_char,
    parse_case_no,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_sex,
    validate_credit_code,
    validate_resident_id,
)

KNOWN_RESIDENT_ID = "11010519491231002X"
KNOWN_CREDIT_CODES = ("91350100M000100Y43", "91110000101623741K")


def _error(func: object, value: str) -> str:
    assert callable(func)
    with pytest.raises(IdentifierError) as info:
        func(value)
    return str(info.value)


# --- resident ID -----------------------------------------------------------------------------


def test_known_resident_id_is_valid() -> None:
    assert validate_resident_id(KNOWN_RESIDENT_ID) == KNOWN_RESIDENT_ID
    assert resident_id_birth_date(KNOWN_RESIDENT_ID) == date(1949, 12, 31)
    assert resident_id_sex(KNOWN_RESIDENT_ID) == "female"  # 17th digit 2
    assert resident_id_check_char(KNOWN_RESIDENT_ID[:17]) == "X"


def test_identifier_error_is_a_value_error() -> None:
    assert issubclass(IdentifierError, ValueError)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "110105194912310028",
            "resident ID 110105194912310028: check character should be X, got 8",
        ),
        ("1101051949123100", "resident ID 1101051949123100: must be 18 characters, got 16"),
        ("", "resident ID : must be 18 characters, got 0"),
        (
            "1101051949123A002X",
            "resident ID 1101051949123A002X: character 'A' at position 14 is not a digit",
        ),
        (
            "11010519491231002x",
            "resident ID 11010519491231002x: check character must be an uppercase X, "
            "got lowercase x",
        ),
        (
            "11010519491231002Y",
            "resident ID 11010519491231002Y: check character must be a digit or X, got 'Y'",
        ),
        (
            "11010519490230002X",
            "resident ID 11010519490230002X: birth date 19490230 is not a real date",
        ),
        (
            "11010518991231002X",
            "resident ID 11010518991231002X: birth date 18991231 is before 1900",
        ),
        (
            "99010519491231002X",
            "resident ID 99010519491231002X: area code 990105 does not start with a province "
            "code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82)",
        ),
        (
            "16010519491231002X",
            "resident ID 16010519491231002X: area code 160105 does not start with a province "
            "code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82)",
        ),
    ],
)
def test_resident_id_errors(value: str, message: str) -> None:
    assert _error(validate_resident_id, value) == message


def test_birth_date_and_sex_validate_first() -> None:
    assert "check character" in _error(resident_id_birth_date, "110105194912310028")
    assert "check character" in _error(resident_id_sex, "110105194912310028")


def test_make_resident_id_round_trip() -> None:
    rid = make_resident_id("342301", date(1964, 5, 18), 322)
    assert rid == "342301196405183221"
    assert resident_id_birth_date(rid) == date(1964, 5, 18)
    assert resident_id_sex(rid) == "female"
    assert make_resident_id("110105", date(1949, 12, 31), 2) == KNOWN_RESIDENT_ID
    assert resident_id_sex(make_resident_id("360483", date(1980, 1, 1), 13)) == "male"


def test_builders_refuse_bad_parts() -> None:
    with pytest.raises(IdentifierError, match="area code 3423: must be 6 digits"):
        make_resident_id("3423", date(1964, 5, 18), 1)
    with pytest.raises(IdentifierError, match="sequence 1000: must be between 0 and 999"):
        make_resident_id("342301", date(1964, 5, 18), 1000)
    with pytest.raises(IdentifierError, match="before 1900"):
        make_resident_id("342301", date(1899, 5, 18), 1)
    with pytest.raises(IdentifierError, match="17 digits"):
        resident_id_check_char("12345")


def test_mask() -> None:
    assert mask_resident_id("342301196405183224") == "3423011964****3224"
    assert mask_resident_id(KNOWN_RESIDENT_ID) == "1101051949****002X"
    with pytest.raises(IdentifierError, match="must be 18 characters, got 3"):
        mask_resident_id("123")


# --- credit codes ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", KNOWN_CREDIT_CODES)
def test_known_credit_codes_are_valid(code: str) -> None:
    assert validate_credit_code(code) == code
    assert credit_code_check_char(code[:17]) == code[17]
    assert org_code_check_char(code[8:16]) == code[16]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("91350100M000100Y4", "credit code 91350100M000100Y4: must be 18 characters, got 17"),
        (
            "91350100M000100Y44",
            "credit code 91350100M000100Y44: check character should be 3, got 4",
        ),
        (
            "91350100M000100Y53",
            "credit code 91350100M000100Y53: organisation code check character at position "
            "17 should be 4, got 5",
        ),
        (
            "91350100M0001O0Y43",
            "credit code 91350100M0001O0Y43: character 'O' at position 14 is not allowed "
            "(credit codes use digits and the capital letters ABCDEFGHJKLMNPQRTUWXY)",
        ),
        (
            "91350100m000100Y43",
            "credit code 91350100m000100Y43: character 'm' at position 9 is not allowed "
            "(credit codes use digits and the capital letters ABCDEFGHJKLMNPQRTUWXY)",
        ),
    ],
)
def test_credit_code_errors(value: str, message: str) -> None:
    assert _error(validate_credit_code, value) == message


def test_org_code_check_char_special_values() -> None:
    # 11 - (sum mod 11): 10 is written X, 11 is written 0.
    assert org_code_check_char("10162374") == "1"
    assert org_code_check_char("M000100Y") == "4"
    assert org_code_check_char("00000000") == "0"  # sum 0 -> 11 -> 0
    assert org_code_check_char("00000001") == "9"  # sum 2 -> 9
    assert org_code_check_char("00000006") == "X"  # sum 12, 12 mod 11 = 1 -> 10 -> X
    with pytest.raises(IdentifierError, match="organisation code 1234: must be 8 characters"):
        org_code_check_char("1234")


def test_make_credit_code_round_trip() -> None:
    assert make_credit_code("9", "1", "350100", "M000100Y") == "91350100M000100Y43"
    assert make_credit_code("9", "1", "110000", "10162374") == "91110000101623741K"
    with pytest.raises(IdentifierError, match="organisation code M00010OY"):
        make_credit_code("9", "1", "350100", "M00010OY")
    with pytest.raises(IdentifierError, match="area code 3501: must be 6 digits"):
        make_credit_code("9", "1", "3501", "M000100Y")


# --- case numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(2024)赣0483执123号", CaseNumber(2024, "赣0483", None, "执", 123)),
        ("（2024）赣0483执恢12号", CaseNumber(2024, "赣0483", None, "执恢", 12)),
        ("(2023)京01执保7号", CaseNumber(2023, "京01", None, "执保", 7)),
        ("(2022)沪执复3号", CaseNumber(2022, "沪", None, "执复", 3)),
        ("(2021)最高法执监45号", CaseNumber(2021, "最高法", None, "执监", 45)),
        ("(2020)内0102执异1号", CaseNumber(2020, "内0102", None, "执异", 1)),
        ("(2020)兵0101执协1号", CaseNumber(2020, "兵0101", None, "执协", 1)),
        ("(2019)军01执他9号", CaseNumber(2019, "军01", None, "执他", 9)),
        ("(2024)赣0483民初4567号", CaseNumber(2024, "赣0483", None, "民初", 4567)),
        ("(2019)最高法知民终1号", CaseNumber(2019, "最高法", "知", "民终", 1)),
        ("(2024)粤0304财保88号", CaseNumber(2024, "粤0304", None, "财保", 88)),
        ("(2024)粤03破12号", CaseNumber(2024, "粤03", None, "破", 12)),
    ],
)
def test_case_numbers_parse(value: str, expected: CaseNumber) -> None:
    parsed = parse_case_no(value)
    assert parsed == expected
    assert parse_case_no(str(parsed)) == parsed


def test_enforcement_codes_are_exact() -> None:
    assert {"执", "执恢", "执保", "执异", "执复", "执监", "执协", "执他"} == ENFORCEMENT_TYPE_CODES
    assert parse_case_no("(2024)赣0483执恢1号").is_enforcement
    assert not parse_case_no("(2024)赣0483民初1号").is_enforcement


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("(2024)赣0483执0号", "case number (2024)赣0483执0号: sequence must be a positive number"),
        (
            "(2024)赣0483执012号",
            "case number (2024)赣0483执012号: sequence 012 must not start with 0",
        ),
        (
            "2024赣0483执1号",
            "case number 2024赣0483执1号: must start with the year in parentheses, e.g. (2024)",
        ),
        (
            "(24)赣0483执1号",
            "case number (24)赣0483执1号: must start with a 4-digit year in parentheses, "
            "e.g. (2024)",
        ),
        ("(1989)赣0483执1号", "case number (1989)赣0483执1号: year 1989 is outside 1990-2100"),
        ("(2101)赣0483执1号", "case number (2101)赣0483执1号: year 2101 is outside 1990-2100"),
        (
            "(2024)港0483执1号",
            "case number (2024)港0483执1号: court code must start with a province "
            "abbreviation or 最高法, got 港",
        ),
        (
            "(2024)赣048执1号",
            "case number (2024)赣048执1号: court code 赣048 must be a province abbreviation "
            "followed by nothing, 2 digits or 4 digits",
        ),
        ("(2024)赣0483执1", "case number (2024)赣0483执1: must end with 号"),
        ("(2024)赣0483123号", "case number (2024)赣0483123号: case-type code is missing"),
        ("(2024)赣0483执号", "case number (2024)赣0483执号: sequence is missing before 号"),
        (
            "(2024)赣0483执字1号",
            "case number (2024)赣0483执字1号: case-type code 执字 is not known",
        ),
        ("", "case number : must start with the year in parentheses, e.g. (2024)"),
    ],
)
def test_case_number_errors(value: str, message: str) -> None:
    assert _error(parse_case_no, value) == message


def test_make_case_no() -> None:
    assert make_case_no(2024, "赣0483", "执", 123) == "(2024)赣0483执123号"
    assert make_case_no(2019, "最高法", "民终", 1, special="知") == "(2019)最高法知民终1号"
    with pytest.raises(IdentifierError, match="sequence must be a positive number"):
        make_case_no(2024, "赣0483", "执", 0)


# --- properties ------------------------------------------------------------------------------

_PROVINCES = ["11", "13", "23", "31", "36", "44", "46", "50", "54", "65", "71", "81", "82"]
areas = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(_PROVINCES),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
resident_ids = st.builds(make_resident_id, areas, births, sequences)

_ORG_BODY = st.text(alphabet=CREDIT_CODE_CHARSET, min_size=8, max_size=8)
credit_codes = st.builds(
    make_credit_code,
    st.sampled_from(["1", "5", "9", "Y"]),
    st.sampled_from(["1", "2", "3", "9"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    _ORG_BODY,
)


@given(areas, births, sequences)
def test_every_built_resident_id_validates(area: str, birth: date, sequence: int) -> None:
    rid = make_resident_id(area, birth, sequence)
    assert validate_resident_id(rid) == rid
    assert resident_id_birth_date(rid) == birth
    assert resident_id_sex(rid) == ("male" if sequence % 2 else "female")
    assert rid[17] == resident_id_check_char(rid[:17])


@given(resident_ids, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_change_of_a_resident_id_is_detected(
    rid: str, position: int, replacement: str
) -> None:
    if rid[position] == replacement:
        return
    changed = rid[:position] + replacement + rid[position + 1 :]
    with pytest.raises(IdentifierError):
        validate_resident_id(changed)


@given(resident_ids)
def test_mask_hides_exactly_four_characters(rid: str) -> None:
    masked = mask_resident_id(rid)
    assert len(masked) == 18
    assert masked[10:14] == "****"
    assert sum(a != b for a, b in zip(masked, rid, strict=True)) <= 4
    assert [i for i, ch in enumerate(masked) if ch == "*"] == [10, 11, 12, 13]
    assert masked[:10] + masked[14:] == rid[:10] + rid[14:]


@given(credit_codes)
def test_every_built_credit_code_validates(code: str) -> None:
    assert validate_credit_code(code) == code
    assert code[16] == org_code_check_char(code[8:16])
    assert code[17] == credit_code_check_char(code[:17])


@given(credit_codes, st.sampled_from(CREDIT_CODE_CHARSET))
def test_every_check_char_substitution_of_a_credit_code_is_detected(
    code: str, replacement: str
) -> None:
    if code[17] == replacement:
        return
    with pytest.raises(IdentifierError, match="check character should be"):
        validate_credit_code(code[:17] + replacement)


@given(credit_codes, st.integers(min_value=0, max_value=17), st.sampled_from(CREDIT_CODE_CHARSET))
def test_any_single_change_of_a_credit_code_is_detected(
    code: str, position: int, replacement: str
) -> None:
    # MOD 31 with weights prime to 31 catches every single substitution.
    if code[position] == replacement:
        return
    with pytest.raises(IdentifierError):
        validate_credit_code(code[:position] + replacement + code[position + 1 :])


@given(
    st.integers(min_value=1990, max_value=2100),
    st.sampled_from(["赣0483", "京01", "沪", "最高法", "兵0101"]),
    st.sampled_from(sorted(ENFORCEMENT_TYPE_CODES)),
    st.integers(min_value=1, max_value=10**7),
    st.booleans(),
)
def test_case_number_round_trip(
    year: int, court: str, type_code: str, sequence: int, full_width: bool
) -> None:
    text = make_case_no(year, court, type_code, sequence)
    if full_width:
        text = "（" + text[1:5] + "）" + text[6:]
    assert parse_case_no(text) == CaseNumber(year, court, None, type_code, sequence)
