"""A realistic synthetic court event history, for demos, tests and benchmarks.

``generate_history(debtors, seed)`` yields court events in their JSON form (DESIGN §3), ordered
by ``occurred_at``, the same for the same seed, and streamed: it never holds the whole history.

How it stays streamed and sorted: debtor ``i`` gets an earliest moment ``e_i`` that grows with
``i`` (the listings spread over three years from ``start``), and every event of that debtor
happens at or after ``e_i``. A debtor's first list entry is planned in full when the debtor is
drawn (its lifecycle: warned -> listed -> corrected* -> shielded | revoked); a second or third
entry is planned when its own time comes. Plans wait in a heap keyed by the time of their next
event. Before drawing debtor ``i`` every pending event earlier than ``e_i`` is emitted: no later
debtor can produce anything earlier, and a plan only ever adds events later than the one just
taken. The heap holds only entries that still have a future event, each packed into a few
hundred bytes, so memory follows the number of entries open at one moment (about 100 MB at a
million debtors), not the length of the history.

Identifiers are valid and unique without remembering them: every person's ID number is decoded
from a per-area counter passed through a keyed permutation (a small Feistel network), so two
people never share one; organisation codes come from a global counter the same way.

Randomness comes from one ``random.Random(seed)`` only, event ids included.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from typing import Any

from shixin.domain.identifiers import (
    CREDIT_CODE_CHARSET,
    make_credit_code,
    resident_id_check_char,
)

__all__ = ["COURTS", "DEFAULT_START", "SyntheticCourt", "generate_history"]

CST = timezone(timedelta(hours=8))
DEFAULT_START = datetime(2021, 1, 4, 9, 0, tzinfo=CST)
# The debtors' first listings spread over three years, or longer when there are more than
# MAX_DEBTORS_PER_DAY a day: that cap bounds the number of entries open at one moment, and so
# the generator's memory, whatever the number of debtors.
LISTING_SPAN_DAYS = 3 * 365 + 1
MAX_DEBTORS_PER_DAY = 1000
_DAY = 86_400


@dataclass(frozen=True, slots=True)
class SyntheticCourt:
    key: str  # the court.code field (an ASCII key)
    code: str  # the court code inside case numbers (法院代字)
    name: str
    area: str  # the area code most of its debtors live or are registered in
    city: str  # short city name for company names and arbitration bodies


COURTS: tuple[SyntheticCourt, ...] = (
    SyntheticCourt("C360483", "赣0483", "庐山市人民法院", "360483", "九江"),
    SyntheticCourt("C360102", "赣0102", "南昌市东湖区人民法院", "360102", "南昌"),
    SyntheticCourt("C110105", "京0105", "北京市朝阳区人民法院", "110105", "北京"),
    SyntheticCourt("C110108", "京0108", "北京市海淀区人民法院", "110108", "北京"),
    SyntheticCourt("C1101", "京01", "北京市第一中级人民法院", "110102", "北京"),
    SyntheticCourt("C310115", "沪0115", "上海市浦东新区人民法院", "310115", "上海"),
    SyntheticCourt("C310104", "沪0104", "上海市徐汇区人民法院", "310104", "上海"),
    SyntheticCourt("C440304", "粤0304", "深圳市福田区人民法院", "440304", "深圳"),
    SyntheticCourt("C440106", "粤0106", "广州市天河区人民法院", "440106", "广州"),
    SyntheticCourt("C330106", "浙0106", "杭州市西湖区人民法院", "330106", "杭州"),
    SyntheticCourt("C330782", "浙0782", "义乌市人民法院", "330782", "义乌"),
    SyntheticCourt("C320508", "苏0508", "苏州市姑苏区人民法院", "320508", "苏州"),
    SyntheticCourt("C320102", "苏0102", "南京市玄武区人民法院", "320102", "南京"),
    SyntheticCourt("C370202", "鲁0202", "青岛市市南区人民法院", "370202", "青岛"),
    SyntheticCourt("C410105", "豫0105", "郑州市金水区人民法院", "410105", "郑州"),
    SyntheticCourt("C420106", "鄂0106", "武汉市武昌区人民法院", "420106", "武汉"),
    SyntheticCourt("C430104", "湘0104", "长沙市岳麓区人民法院", "430104", "长沙"),
    SyntheticCourt("C510107", "川0107", "成都市武侯区人民法院", "510107", "成都"),
    SyntheticCourt("C500103", "渝0103", "重庆市渝中区人民法院", "500103", "重庆"),
    SyntheticCourt("C350203", "闽0203", "厦门市思明区人民法院", "350203", "厦门"),
    SyntheticCourt("C610113", "陕0113", "西安市雁塔区人民法院", "610113", "西安"),
    SyntheticCourt("C340104", "皖0104", "合肥市蜀山区人民法院", "340104", "合肥"),
)
_COURT_CUM = list(accumulate([3, 2, 3, 3, 1, 3, 2, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]))

# Home areas of people registered elsewhere (only the province prefix is checked by validation).
_OTHER_AREAS = (
    "360428", "360430", "360124", "361002", "411324", "411625", "511725", "430621", "341221",
    "421182", "320923", "370883", "130627", "150102", "450102", "520102", "530102", "620102",
    "640104", "650102", "230102", "220102", "210102", "140105", "120101", "460105", "540102",
    "630102", "350583", "440513", "330381", "500228",
)  # fmt: skip
_ALL_AREAS = tuple(sorted({c.area for c in COURTS} | set(_OTHER_AREAS)))

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_CUM = list(accumulate(1.0 / (rank + 6) for rank in range(len(_SURNAMES))))
_MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国成东文海峰亮志兵金"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀燕玲桂英萍红梅琳雪婷颖慧莉倩洁丹兰凤玉晶琴云珍月春"
_BRANDS = (
    "恒达", "鑫源", "宏远", "华兴", "金诚", "嘉禾", "瑞丰", "盛世", "天佑", "永利", "博远", "中鼎",
    "汇通", "联创", "东方", "凯旋", "新宇", "安泰", "信达", "昌盛", "润泽", "广厦", "鸿运", "德盛",
)  # fmt: skip
_INDUSTRIES = (
    "建材", "房地产开发", "建筑工程", "商贸", "贸易", "物流", "科技", "机械制造", "投资管理",
    "食品", "纺织", "化工", "电子", "餐饮管理", "装饰工程", "农业开发", "医药", "汽车销售",
    "文化传媒", "矿业",
)  # fmt: skip
_DEBTS = ("借款本金", "货款", "工程款", "租金", "劳动报酬", "损害赔偿款", "欠款", "合伙份额转让款")

# Listing grounds (失信情形): ground (1) alone is by far the most common.
_GROUNDS: tuple[tuple[int, ...], ...] = (
    (1,), (1, 4), (1, 5), (4,), (5,), (3,), (2,), (6,), (1, 3), (1, 4, 5), (2, 3),
)  # fmt: skip
_GROUNDS_CUM = list(accumulate([55, 8, 5, 8, 5, 5, 3, 5, 3, 2, 1]))
_EXIT_GROUNDS = (
    "performed", "settlement_performed", "creditor_request", "no_assets_terminal", "suspended",
    "not_enforced", "terminated",
)  # fmt: skip
_EXIT_CUM = list(accumulate([55, 15, 8, 10, 3, 2, 7]))
_EXIT_DELAY_CUM = list(accumulate([20, 30, 25, 15, 6, 4]))  # days from performance to exit: 0..5
_CORRECTION_GROUNDS = (
    "已履行完毕生效法律文书确定的义务",
    "不符合纳入失信被执行人名单的情形",
    "身份信息登记错误，被执行人并非本案当事人",
    "已提供有效担保",
    "执行和解协议正在履行中",
)
_REJECTION_REASONS = (
    "经审查，申请纠正的理由不成立",
    "经审查，被执行人有履行能力而拒不履行生效法律文书确定的义务",
    "被执行人未提交证明其主张的证据",
)

# Proportions (DOMAIN §6 and the brief).
P_PERSON = 0.85
P_WARNED = 0.90
P_PERFORMED = 0.60
P_CORRECTED = 0.05
P_CORRECTION_REQUESTED = 0.03
P_CORRECTION_UPHELD = 0.40
P_TERM_EXPIRY_SHIELDED = 0.50
_ENTRIES_PER_SUBJECT_CUM = list(accumulate([90, 7, 3]))  # 1, 2 or 3 entries


class _Permutation:
    """A keyed pseudo-random permutation of ``range(size)``: Feistel network, cycle walking."""

    __slots__ = ("_half", "_keys", "_mask", "size")

    def __init__(self, size: int, rng: random.Random) -> None:
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self._half = bits // 2
        self._mask = (1 << self._half) - 1
        self._keys = tuple(rng.getrandbits(32) for _ in range(4))
        self.size = size

    def __call__(self, value: int, tweak: int = 0) -> int:
        if not 0 <= value < self.size:
            raise OverflowError(f"synthetic identifier space exhausted ({self.size} values)")
        half, mask = self._half, self._mask
        while True:
            left, right = value >> half, value & mask
            for key in self._keys:
                h = (right * 0x9E3779B1 + key + tweak) & 0xFFFFFFFF
                h ^= h >> 15
                h = (h * 0x85EBCA6B) & 0xFFFFFFFF
                h ^= h >> 13
                left, right = right, left ^ (h & mask)
            value = (left << half) | right
            if value < self.size:
                return value


@dataclass(slots=True)
class _Subject:
    """One distinct debtor: its JSON subject and related persons, shared by its entries."""

    json: dict[str, Any]
    related: list[dict[str, Any]]
    # The parts of a different valid id of the same kind (a registration mistake), built only
    # when an entry uses it: (area, birth, sequence) of a person, (area, org code) of an entity.
    wrong_id: tuple[Any, ...]
    wrong_name: str


@dataclass(slots=True)
class _ListingPlan:
    """What a listing needs decided at planning time; the rest is drawn when it is emitted."""

    court_index: int
    subject: _Subject
    grounds: tuple[int, ...]
    filed_on: int  # ordinal
    mistake: str | None  # "name" or "id": the listing carries a mistake a correction fixes
    amount: float
    paid: float
    debt: int


# Event types, numbered for the packed plan below.
_TYPES = (
    "RiskWarningIssued", "DebtorListed", "ListingCorrected", "ObligationPerformed",
    "CorrectionRequested", "CorrectionRejected", "ListingShielded", "ListingRevoked",
)  # fmt: skip
_WARNED, _LISTED, _CORRECTED, _PERFORMED, _REQUESTED, _REJECTED, _SHIELDED, _REVOKED = range(8)
_REVOCATION_GROUNDS = (*_EXIT_GROUNDS, "term_expired", "wrongly_listed", "correction_upheld")
_GROUND_INDEX = {ground: i for i, ground in enumerate(_REVOCATION_GROUNDS)}

# A pending entry waits in the heap as (time, tiebreak, case key, step, later steps). A step is
# one int, (time << 8) | (type << 4) | argument index (a ground, a grounds text, a reason), or,
# when it carries a payload (a listing, a correction), a tuple (time, type, payload). The case
# key packs the court, the year, the case type and the sequence. A debtor's second or third
# entry waits as (time, tiebreak, -1, subject, (court index, entries left)) and is planned only
# when its time comes. So an open entry costs a few hundred bytes.
_Pending = tuple[int, int, int, Any, Any]


def generate_history(
    debtors: int, seed: int, start: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Yield a synthetic court event history of ``debtors`` distinct debtors, lazily.

    Events are JSON-ready dicts (DESIGN §3), sorted by ``occurred_at``; the same ``seed`` gives
    the same history. ``start`` (default 2021-01-04 09:00 +08:00; a naive value is read as
    China Standard Time) is the earliest event time.
    """
    if debtors < 0:
        raise ValueError(f"debtors must be 0 or more, got {debtors}")
    begin = DEFAULT_START if start is None else start
    begin = begin.replace(tzinfo=CST) if begin.tzinfo is None else begin.astimezone(CST)
    if not 1992 <= begin.year <= 2090:
        raise ValueError(f"start must fall in 1992-2090 (case number years), got {begin.year}")
    span_days = max(LISTING_SPAN_DAYS, -(-debtors // MAX_DEBTORS_PER_DAY))
    if begin.year + span_days // 365 + 4 > 2100:
        raise ValueError(
            f"{debtors} debtors from {begin.year} would run past 2100, the last case number year"
        )
    return _Generator(debtors, seed, begin, span_days).events()


class _Generator:
    def __init__(self, debtors: int, seed: int, start: datetime, span_days: int) -> None:
        self.rng = random.Random(seed)
        self.debtors = debtors
        self.start = start
        self.start_ts = int(start.timestamp())
        self.day0 = start.date()
        self.midnight0 = int(datetime.combine(self.day0, datetime.min.time(), CST).timestamp())
        self.weekday0 = self.day0.weekday()
        self.span = span_days * _DAY
        # Birth dates: nobody is a minor at listing (every listing is after start).
        latest_birth_year = min(2000, start.year - 19)
        self.birth_first = date(latest_birth_year - 50, 1, 1)
        self.birth_days = (date(latest_birth_year, 12, 31) - self.birth_first).days + 1
        # Person ids: per area, counter -> permuted (birth day, sequence/2 in 1..249);
        # sequence/2 + 250 is kept for registration mistakes, so those never hit anybody.
        self.person_perm = _Permutation(self.birth_days * 249, self.rng)
        self.person_counters: dict[str, int] = {}
        self.org_perm = _Permutation(10**8, self.rng)
        self.org_counter = 0
        self.case_counters: dict[tuple[int, int, int], int] = {}
        self.tie = 0

    # --- time -------------------------------------------------------------------------------

    def _time_of_day(self) -> int:
        rng = self.rng
        r = rng.random()
        if r < 0.47:
            return rng.randint(8 * 3600 + 1800, 12 * 3600)  # morning office hours
        if r < 0.92:
            return rng.randint(14 * 3600, 17 * 3600 + 1800)  # afternoon office hours
        if r < 0.96:
            return rng.randint(17 * 3600 + 1800, 21 * 3600)  # overtime
        if r < 0.98:
            return rng.randint(12 * 3600, 14 * 3600)  # lunch break
        return rng.randint(7 * 3600 + 1800, 8 * 3600 + 1800)  # early

    def _moment(self, day: int, not_before: int) -> int:
        """A time on ``day`` (days after start's date), mostly a working day, > not_before."""
        weekday = (self.weekday0 + day) % 7
        if weekday >= 5 and self.rng.random() < 0.95:
            day += 7 - weekday
        t = self.midnight0 + day * _DAY + self._time_of_day()
        if t <= not_before:
            t = not_before + self.rng.randint(600, 5400)
        return t

    def _before(self, t: int, days: int) -> int:
        """An office-hours moment ``days`` days before ``t`` (same day: not after ``t``)."""
        moment = self.midnight0 + (self._day(t) - days) * _DAY + self._time_of_day()
        return max(self.start_ts, min(moment, t))

    def _day(self, t: int) -> int:
        return (t - self.midnight0) // _DAY

    def _date(self, t: int) -> date:
        return self.day0 + timedelta(days=self._day(t))

    @staticmethod
    def _iso(t: int) -> str:
        return datetime.fromtimestamp(t, CST).isoformat()

    # --- people and companies ---------------------------------------------------------------

    def _person_name(self, male: bool) -> str:
        rng = self.rng
        surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
        chars = _MALE_CHARS if male else _FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.65 else "")
        return surname + given

    @staticmethod
    def _resident_id(area: str, birth: date, sequence: int) -> str:
        first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
        return first17 + resident_id_check_char(first17)

    def _person_id(self, area: str, male: bool) -> tuple[str, tuple[Any, ...]]:
        """A fresh person's id, and the parts of another id a registrar might have typed."""
        n = self.person_counters.get(area, 0)
        self.person_counters[area] = n + 1
        p = self.person_perm(n, tweak=int(area))
        birth = self.birth_first + timedelta(days=p % self.birth_days)
        half = 1 + p // self.birth_days  # 1..249
        parity = 1 if male else 0
        true_id = self._resident_id(area, birth, 2 * half + parity)
        return true_id, (area, birth, 2 * (half + 250) + parity)

    def _org_code(self) -> str:
        p = self.org_perm(self.org_counter)
        self.org_counter += 1
        if self.rng.random() < 0.55:
            return f"{p:08d}"  # an old-style numeric organisation code
        chars = []
        for _ in range(6):
            p, digit = divmod(p, 31)
            chars.append(CREDIT_CODE_CHARSET[digit])
        return "MA" + "".join(reversed(chars))  # a code issued after 2015

    def _typo(self, name: str, pool: str, first: int = 1) -> str:
        """``name`` with one character (from ``first`` on) replaced by another from ``pool``."""
        rng = self.rng
        position = rng.randrange(first, len(name))
        options = [ch for ch in pool if ch != name[position]]
        return name[:position] + rng.choice(options) + name[position + 1 :]

    def _related(self, role: str, area: str, with_id: bool = True) -> dict[str, Any]:
        male = self.rng.random() < 0.78
        home = area if self.rng.random() < 0.6 else self.rng.choice(_ALL_AREAS)
        person_id = self._person_id(home, male)[0] if with_id else None
        return {"role": role, "id": person_id, "name": self._person_name(male)}

    def _subject(self, court: SyntheticCourt) -> _Subject:
        rng = self.rng
        if rng.random() < P_PERSON:
            male = rng.random() < 0.72
            area = court.area if rng.random() < 0.55 else rng.choice(_ALL_AREAS)
            true_id, wrong_id = self._person_id(area, male)
            name = self._person_name(male)
            born = date(int(true_id[6:10]), int(true_id[10:12]), int(true_id[12:14]))
            subject = {
                "kind": "person",
                "id": true_id,
                "name": name,
                "sex": "male" if male else "female",
                "birth_date": born.isoformat(),
            }
            pool = _MALE_CHARS if male else _FEMALE_CHARS
            return _Subject(subject, [], wrong_id, self._typo(name, pool))
        if rng.random() < 0.8:
            area, city = court.area, court.city
        else:
            other = rng.choice(COURTS)
            area, city = other.area, other.city
        org = self._org_code()
        individual = rng.random() < 0.05
        org_type = "2" if individual else "1"
        code = make_credit_code("9", org_type, area, org)
        wrong_area = rng.choice([a for a in _ALL_AREAS if a != area])
        wrong_code = ("9", org_type, wrong_area, org)
        brand, industry = rng.choice(_BRANDS), rng.choice(_INDUSTRIES)
        if individual:
            name = f"{city}市{brand}{industry}经营部"
        else:
            form = rng.choices(
                ("有限公司", "有限责任公司", "股份有限公司"), cum_weights=(80, 95, 100)
            )
            name = f"{city}{brand}{industry}{form[0]}"
        wrong_name = name.replace(brand, self._typo(brand, "".join(_BRANDS), first=0), 1)
        related = [self._related("legal_representative", area)]
        if rng.random() < 0.2:
            related.append(self._related("actual_controller", area, with_id=rng.random() < 0.9))
        if rng.random() < 0.1:
            related.append(self._related("principal", area, with_id=rng.random() < 0.8))
        subject = {
            "kind": "entity",
            "id": code,
            "name": name,
            "legal_representative": related[0]["name"],
        }
        return _Subject(subject, related, wrong_code, wrong_name)

    # --- one entry's plan -------------------------------------------------------------------

    def _case(self, court_index: int, year: int) -> int:
        """A fresh case of ``court``: its packed key (court, type, year, sequence)."""
        rng = self.rng
        resumed = int(rng.random() < 0.15)
        counter = (court_index, year, resumed)
        sequence = self.case_counters.get(counter, rng.randint(1, 150)) + rng.randint(1, 12)
        self.case_counters[counter] = sequence
        return court_index | resumed << 5 | year << 6 | sequence << 18

    @staticmethod
    def _case_texts(key: int) -> tuple[SyntheticCourt, str, str]:
        """The court, the case number and the entry id of a packed case key."""
        court = COURTS[key & 31]
        resumed, year, sequence = key >> 5 & 1, key >> 6 & 0xFFF, key >> 18
        case_no = f"({year}){court.code}{'执恢' if resumed else '执'}{sequence}号"
        entry_id = f"{court.key}-{year}-{'ZH' if resumed else 'ZX'}{sequence:05d}-01"
        return court, case_no, entry_id

    @staticmethod
    def _term_ends_on(grounds: tuple[int, ...], listed_on: date) -> date | None:
        """No fixed term for ground (1) alone; otherwise two years (SPC 2017 Art. 2)."""
        if grounds == (1,):
            return None
        try:
            return listed_on.replace(year=listed_on.year + 2)
        except ValueError:  # 29 February
            return listed_on.replace(year=listed_on.year + 2, day=28)

    def _listing(self, listed_at: int, plan: _ListingPlan) -> dict[str, Any]:
        """The DebtorListed payload, drawn when it is emitted (a plan waits small)."""
        rng = self.rng
        court, subject = COURTS[plan.court_index], plan.subject
        filed_on = date.fromordinal(plan.filed_on)
        term_ends_on = self._term_ends_on(plan.grounds, self._date(listed_at))
        debt = _DEBTS[plan.debt]
        obligation = f"向申请执行人支付{debt}{plan.amount:,.2f}元及相应利息"
        if plan.paid:
            performance, performed_part = "partial", f"已履行{plan.paid:,.2f}元"
        else:
            performance, performed_part = "none", ""
        unperformed_part = f"{debt}{plan.amount - plan.paid:,.2f}元及相应利息"
        basis_year = max(1990, filed_on.year - rng.choice((0, 1, 1, 2)))
        if rng.random() < 0.18:
            doc_no = f"{court.city[0]}仲字〔{basis_year}〕第{rng.randint(1, 3000)}号"
            issuer = f"{court.city}仲裁委员会"
        else:
            doc_no = f"({basis_year}){court.code}民初{rng.randint(1, 20000)}号"
            issuer = court.name
        subject_json = dict(subject.json)
        if plan.mistake == "id":
            wrong = subject.wrong_id
            subject_json["id"] = (
                self._resident_id(*wrong) if len(wrong) == 3 else make_credit_code(*wrong)
            )
        elif plan.mistake == "name":
            subject_json["name"] = subject.wrong_name
        served = None
        if rng.random() < 0.85:
            served = self._iso(self._before(listed_at, rng.randint(0, 2)))
        return {
            "subject": subject_json,
            "related_persons": [dict(person) for person in subject.related],
            "grounds": list(plan.grounds),
            "term_ends_on": None if term_ends_on is None else term_ends_on.isoformat(),
            "basis": {"doc_no": doc_no, "issuer": issuer},
            "obligation": obligation,
            "performance": performance,
            "performed_part": performed_part,
            "unperformed_part": unperformed_part,
            "filed_on": filed_on.isoformat(),
            "decision_served_at": served,
            "public": rng.random() < 0.98,
        }

    def _entry(
        self, court_index: int, subject: _Subject, not_before: int
    ) -> tuple[int, tuple[Any, ...], int]:
        """Plan one entry whose events all fall after ``not_before``.

        Returns the case key, the steps in time order and the listing time. The lifecycle is
        warned? -> listed -> (correction requested -> rejected)? -> corrected? -> then either
        performed -> shielded | revoked, or shielded when the term ends, or still listed; a
        correction upheld revokes the entry at once.
        """
        rng = self.rng
        steps: list[Any] = []
        first = self._moment(self._day(not_before) + rng.randint(0, 2), not_before)
        if rng.random() < P_WARNED:
            steps.append(first << 8 | _WARNED << 4)
            listed_at = self._moment(self._day(first) + rng.randint(10, 30), first)
        else:
            listed_at = first
        filed_on = self._date(first) - timedelta(days=rng.randint(20, 400))
        key = self._case(court_index, filed_on.year)
        mistake = None
        if rng.random() < P_CORRECTED:
            mistake = rng.choices(("name", "unperformed", "id"), cum_weights=(50, 90, 100))[0]
        grounds = rng.choices(_GROUNDS, cum_weights=_GROUNDS_CUM)[0]
        amount = round(min(5e7, max(3000.0, rng.lognormvariate(11.5, 1.3))), -2)
        paid = round(amount * rng.uniform(0.05, 0.7), -2) if rng.random() < 0.25 else 0.0
        debt = rng.randrange(len(_DEBTS))
        listing = _ListingPlan(
            court_index, subject, grounds, filed_on.toordinal(), mistake, amount, paid, debt
        )
        steps.append((listed_at, _LISTED, listing))
        t = listed_at
        if rng.random() < P_CORRECTION_REQUESTED:
            window = rng.randint(1, 10) if rng.random() < 0.85 else rng.randint(11, 25)
            t = self._moment(self._day(listed_at) + window, t)
            steps.append(t << 8 | _REQUESTED << 4 | rng.randrange(len(_CORRECTION_GROUNDS)))
            review = rng.randint(1, 3) if rng.random() < 0.85 else rng.randint(4, 6)
            t = self._moment(self._day(t) + review, t)
            if mistake is None and rng.random() < P_CORRECTION_UPHELD:
                upheld = _GROUND_INDEX["correction_upheld"]
                steps.append(t << 8 | _REVOKED << 4 | upheld)
                return key, tuple(steps), listed_at
            steps.append(t << 8 | _REJECTED << 4 | rng.randrange(len(_REJECTION_REASONS)))
        if mistake is not None:
            t = self._moment(self._day(t) + rng.randint(1, 60), t)
            if mistake == "unperformed":
                left = amount - paid
                corrected_left = min(left - 100, round(left * rng.uniform(0.3, 0.95), -2))
                corrected = f"{_DEBTS[debt]}{corrected_left:,.2f}元及相应利息"
                changes: dict[str, Any] = {"unperformed_part": corrected}
                reason = "未履行部分金额计算有误，予以更正"
            else:
                changes = {"subject": dict(subject.json)}
                what = {"person": "身份证号码", "entity": "统一社会信用代码"}[subject.json["kind"]]
                reason = f"被执行人{what}登记错误" if mistake == "id" else "被执行人名称登记错误"
            steps.append((t, _CORRECTED, {"changes": changes, "reason": reason}))
        term_ends_on = self._term_ends_on(grounds, self._date(listed_at))
        if rng.random() < P_PERFORMED:
            r = rng.random()
            if r < 0.4:
                delay = rng.randint(1, 30)
            elif r < 0.75:
                delay = rng.randint(31, 180)
            else:
                delay = rng.randint(181, 700)
            t = self._moment(self._day(t) + delay, t)
            ground = rng.choices(range(len(_EXIT_GROUNDS)), cum_weights=_EXIT_CUM)[0]
            steps.append(t << 8 | _PERFORMED << 4 | ground)
            lag = rng.choices(range(6), cum_weights=_EXIT_DELAY_CUM)[0]
            t = self._moment(self._day(t) + lag, t)
            exit_type = _SHIELDED if rng.random() < 0.75 else _REVOKED
            steps.append(t << 8 | exit_type << 4 | ground)
        elif term_ends_on is not None and rng.random() < P_TERM_EXPIRY_SHIELDED:
            term_day = (term_ends_on - self.day0).days
            lag = rng.choices(range(1, 7), cum_weights=_EXIT_DELAY_CUM)[0]
            t = self._moment(term_day + lag, t)
            steps.append(t << 8 | _SHIELDED << 4 | _GROUND_INDEX["term_expired"])
        return key, tuple(steps), listed_at

    # --- the stream -------------------------------------------------------------------------

    def _push(self, heap: list[_Pending], key: int, steps: tuple[Any, ...]) -> None:
        step = steps[0]
        t = step >> 8 if isinstance(step, int) else step[0]
        self.tie += 1
        heapq.heappush(heap, (t, self.tie, key, step, steps[1:]))

    def _plan(
        self, heap: list[_Pending], court_index: int, subject: _Subject, not_before: int, left: int
    ) -> None:
        """Plan one entry of ``subject``; park the subject's next entry, if any, in the heap."""
        key, steps, listed_at = self._entry(court_index, subject, not_before)
        self._push(heap, key, steps)
        if left > 1:
            rng = self.rng
            later = listed_at + rng.randint(20, 500) * _DAY
            if rng.random() < 0.5:
                court_index = rng.randrange(len(COURTS))
            self.tie += 1
            heapq.heappush(heap, (later, self.tie, -1, subject, (court_index, left - 1)))

    def _debtor(self, earliest: int, heap: list[_Pending]) -> None:
        rng = self.rng
        court_index = rng.choices(range(len(COURTS)), cum_weights=_COURT_CUM)[0]
        subject = self._subject(COURTS[court_index])
        count = 1 + rng.choices(range(3), cum_weights=_ENTRIES_PER_SUBJECT_CUM)[0]
        self._plan(heap, court_index, subject, earliest - 1, count)

    def _pop(self, heap: list[_Pending]) -> dict[str, Any] | None:
        """Emit the earliest pending event (or plan a parked entry and return None)."""
        t, _, key, step, rest = heapq.heappop(heap)
        if key < 0:
            court_index, left = rest
            self._plan(heap, court_index, step, t, left)
            return None
        if rest:
            self._push(heap, key, rest)
        payload: Any = None
        if isinstance(step, int):
            type_, arg = step >> 4 & 15, step & 15
        else:
            _, type_, payload = step
            arg = 0
        court, case_no, entry_id = self._case_texts(key)
        rng = self.rng
        event: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": _TYPES[type_],
            "entry_id": entry_id,
            "case_no": case_no,
            "court": {"code": court.key, "name": court.name},
            "occurred_at": self._iso(t),
        }
        if type_ == _WARNED:
            event["served_at"] = self._iso(self._before(t, rng.choice((0, 0, 0, 1))))
        elif type_ == _LISTED:
            event.update(self._listing(t, payload))
        elif payload is not None:  # ListingCorrected
            event.update(payload)
        elif type_ == _REQUESTED:
            event["received_at"] = self._iso(self._before(t, rng.choice((0, 0, 1))))
            event["grounds"] = _CORRECTION_GROUNDS[arg]
        elif type_ == _REJECTED:
            event["reason"] = _REJECTION_REASONS[arg]
        else:  # ObligationPerformed, ListingShielded, ListingRevoked
            event["ground"] = _REVOCATION_GROUNDS[arg]
        return event

    def events(self) -> Iterator[dict[str, Any]]:
        heap: list[_Pending] = []
        n = self.debtors
        for i in range(n):
            earliest = self.start_ts + self.span * i // n
            while heap and heap[0][0] < earliest:
                event = self._pop(heap)
                if event is not None:
                    yield event
            self._debtor(earliest, heap)
        while heap:
            event = self._pop(heap)
            if event is not None:
                yield event
