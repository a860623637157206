"""The demo school's curriculum: subjects per year level with weekly hours, and teacher specializations.

Hours follow the typical curricula of the Ukrainian New Ukrainian School (grades 1-9, the
standard programmes of 2022-2023) and the senior-school base level (grades 10-11),
rounded to what a Kyiv lyceum timetable usually carries; they are realistic, not normative.
English and informatics are taught in two subgroups from grade 5 (classes over 27
students are split). In grades 1-2 the primary teacher also teaches physical education.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Teacher specializations: key -> position as written in the staff list.
SPECIALIZATIONS: dict[str, str] = {
    "primary": "учитель початкових класів",
    "ukr": "учитель української мови і літератури",
    "eng": "учитель англійської мови",
    "math": "учитель математики",
    "phys": "учитель фізики",
    "chem": "учитель хімії",
    "bio": "учитель біології",
    "geo": "учитель географії",
    "hist": "учитель історії",
    "inf": "учитель інформатики",
    "art": "учитель мистецтва",
    "tech": "учитель технологій",
    "pe": "учитель фізичної культури",
}

# A specialization with too few hours in a small school is taught by a related teacher.
PARTNER_SPEC: dict[str, str] = {
    "phys": "math",
    "chem": "bio",
    "geo": "bio",
    "inf": "math",
    "art": "hist",
    "tech": "pe",
    "eng": "ukr",
    "bio": "hist",
    "math": "ukr",
    "hist": "ukr",
    "pe": "primary",
    "ukr": "primary",
}

# Share of women by specialization (Ukrainian teaching staff is mostly female).
FEMALE_SHARE: dict[str, float] = {"primary": 0.95, "pe": 0.45, "phys": 0.5, "inf": 0.5, "tech": 0.4}
DEFAULT_FEMALE_SHARE = 0.85


@dataclass(frozen=True)
class SubjectInfo:
    name: str
    short_name: str
    spec: str
    split: bool = False  # taught in two subgroups from grade 5
    pass_fail: bool = False  # marked "зараховано / не зараховано"


SUBJECTS: dict[str, SubjectInfo] = {
    s.name: s
    for s in (
        SubjectInfo("Українська мова та читання", "Укр. мова", "primary"),
        SubjectInfo("Математика", "Матем.", "math"),
        SubjectInfo("Я досліджую світ", "ЯДС", "primary"),
        SubjectInfo("Дизайн і технології", "Диз. і техн.", "primary"),
        SubjectInfo("Мистецтво", "Мист.", "art"),
        SubjectInfo("Фізична культура", "Фізк.", "pe"),
        SubjectInfo("Англійська мова", "Англ.", "eng", split=True),
        SubjectInfo("Інформатика", "Інф.", "inf", split=True),
        SubjectInfo("Українська мова", "Укр. мова", "ukr"),
        SubjectInfo("Українська література", "Укр. літ.", "ukr"),
        SubjectInfo("Зарубіжна література", "Зар. літ.", "ukr"),
        SubjectInfo("Пізнаємо природу", "Природа", "bio"),
        SubjectInfo("Вступ до історії України та громадянської освіти", "Історія", "hist"),
        SubjectInfo("Історія: Україна і світ", "Історія", "hist"),
        SubjectInfo("Здоров'я, безпека та добробут", "ЗБД", "bio"),
        SubjectInfo("Етика", "Етика", "hist", pass_fail=True),
        SubjectInfo("Технології", "Техн.", "tech"),
        SubjectInfo("Алгебра", "Алг.", "math"),
        SubjectInfo("Геометрія", "Геом.", "math"),
        SubjectInfo("Біологія", "Біол.", "bio"),
        SubjectInfo("Біологія і екологія", "Біол. і екол.", "bio"),
        SubjectInfo("Хімія", "Хім.", "chem"),
        SubjectInfo("Фізика", "Фіз.", "phys"),
        SubjectInfo("Фізика і астрономія", "Фіз. і астр.", "phys"),
        SubjectInfo("Географія", "Геогр.", "geo"),
        SubjectInfo("Історія України", "Іст. Укр.", "hist"),
        SubjectInfo("Всесвітня історія", "Всесв. іст.", "hist"),
        SubjectInfo("Основи правознавства", "Правозн.", "hist"),
        SubjectInfo("Громадянська освіта", "Громад. осв.", "hist"),
        SubjectInfo("Захист України", "Захист Укр.", "pe"),
    )
}

_PRIMARY_12: dict[str, float] = {
    "Українська мова та читання": 7,
    "Математика": 4,
    "Я досліджую світ": 3,
    "Дизайн і технології": 1,
    "Мистецтво": 2,
    "Фізична культура": 3,
}
_PRIMARY_34: dict[str, float] = {
    "Українська мова та читання": 7,
    "Математика": 5,
    "Я досліджую світ": 3,
    "Дизайн і технології": 1,
    "Інформатика": 1,
    "Мистецтво": 2,
    "Фізична культура": 3,
    "Англійська мова": 3,
}
_LEVEL_HOURS: dict[int, dict[str, float]] = {
    1: {**_PRIMARY_12, "Англійська мова": 2},
    2: {**_PRIMARY_12, "Інформатика": 1, "Англійська мова": 3},
    3: _PRIMARY_34,
    4: _PRIMARY_34,
    5: {
        "Українська мова": 4,
        "Українська література": 2,
        "Зарубіжна література": 2,
        "Англійська мова": 3,
        "Математика": 4,
        "Пізнаємо природу": 2,
        "Вступ до історії України та громадянської освіти": 1,
        "Здоров'я, безпека та добробут": 1,
        "Етика": 1,
        "Технології": 2,
        "Інформатика": 1,
        "Мистецтво": 1,
        "Фізична культура": 3,
    },
    6: {
        "Українська мова": 4,
        "Українська література": 2,
        "Зарубіжна література": 2,
        "Англійська мова": 3,
        "Математика": 4,
        "Пізнаємо природу": 2,
        "Історія: Україна і світ": 2,
        "Здоров'я, безпека та добробут": 1,
        "Етика": 1,
        "Технології": 2,
        "Інформатика": 1,
        "Мистецтво": 1,
        "Фізична культура": 3,
    },
    7: {
        "Українська мова": 3,
        "Українська література": 2,
        "Зарубіжна література": 2,
        "Англійська мова": 3,
        "Алгебра": 3,
        "Геометрія": 2,
        "Біологія": 2,
        "Хімія": 1.5,
        "Фізика": 2,
        "Географія": 2,
        "Історія України": 1.5,
        "Всесвітня історія": 1,
        "Здоров'я, безпека та добробут": 1,
        "Технології": 1,
        "Інформатика": 1,
        "Мистецтво": 1,
        "Фізична культура": 3,
    },
    8: {
        "Українська мова": 2,
        "Українська література": 2,
        "Зарубіжна література": 2,
        "Англійська мова": 3,
        "Алгебра": 3,
        "Геометрія": 2,
        "Біологія": 2,
        "Хімія": 2,
        "Фізика": 3,
        "Географія": 1.5,
        "Історія України": 1.5,
        "Всесвітня історія": 1,
        "Здоров'я, безпека та добробут": 1,
        "Технології": 1,
        "Інформатика": 2,
        "Мистецтво": 1,
        "Фізична культура": 3,
    },
    9: {
        "Українська мова": 2,
        "Українська література": 2,
        "Зарубіжна література": 2,
        "Англійська мова": 3,
        "Алгебра": 3,
        "Геометрія": 2,
        "Біологія": 2,
        "Хімія": 2,
        "Фізика": 3,
        "Географія": 1.5,
        "Історія України": 1.5,
        "Всесвітня історія": 1,
        "Основи правознавства": 1,
        "Здоров'я, безпека та добробут": 1,
        "Технології": 1,
        "Інформатика": 2,
        "Мистецтво": 1,
        "Фізична культура": 3,
    },
    10: {
        "Українська мова": 2,
        "Українська література": 2,
        "Зарубіжна література": 1,
        "Англійська мова": 3,
        "Алгебра": 1.5,
        "Геометрія": 1.5,
        "Історія України": 1.5,
        "Всесвітня історія": 1,
        "Громадянська освіта": 2,
        "Географія": 1.5,
        "Біологія і екологія": 2,
        "Хімія": 1.5,
        "Фізика і астрономія": 3,
        "Інформатика": 2,
        "Захист України": 1.5,
        "Мистецтво": 1.5,
        "Технології": 1.5,
        "Фізична культура": 3,
    },
    11: {
        "Українська мова": 2,
        "Українська література": 2,
        "Зарубіжна література": 1,
        "Англійська мова": 3,
        "Алгебра": 1.5,
        "Геометрія": 1.5,
        "Історія України": 1.5,
        "Всесвітня історія": 1,
        "Біологія і екологія": 2,
        "Хімія": 2,
        "Фізика і астрономія": 4,
        "Інформатика": 2,
        "Захист України": 1.5,
        "Технології": 1.5,
        "Фізична культура": 3,
    },
}

LEVELS = tuple(range(1, 12))
SPLIT_FROM_LEVEL = 5
# Primary grades (1-4) are marked with verbal levels; the NUS assessment order allows
# grades 3-4 to switch to 12 points by a decision of the school, the demo keeps verbal levels.
VERBAL_LEVELS = frozenset({1, 2, 3, 4})


def level_hours(level: int) -> dict[str, Decimal]:
    """Weekly hours per subject name for a year level."""
    return {name: Decimal(str(hours)) for name, hours in _LEVEL_HOURS[level].items()}


def spec_for(subject: str, level: int) -> str:
    """Who teaches ``subject`` in ``level``: primary teachers teach nearly everything in grades 1-4."""
    info = SUBJECTS[subject]
    if level <= 4 and info.spec not in {"eng", "pe"}:
        return "primary"
    if level <= 2 and info.spec == "pe":
        return "primary"
    return info.spec


def is_split(subject: str, level: int) -> bool:
    return SUBJECTS[subject].split and level >= SPLIT_FROM_LEVEL
