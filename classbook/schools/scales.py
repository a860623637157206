"""The standard marking scales a new school gets (R2.5).

12-point (Ukraine): 1-3 initial, 4-6 average, 7-9 sufficient, 10-12 high.
5-point: 2-5, with an optional 1. Pass/fail: "зар."/"не зар." ("зач"/"незач").
Verbal levels for primary grades. Every scale also has the period-only special
marks "н/а" (not attested) and "звільн." (exempt).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_noop

from classbook.schools.models import MarkingScale, ScaleKind, ScaleLevel, ScaleValue, School


@dataclass(frozen=True)
class ValueSpec:
    code: str
    level: str
    numeric: Decimal | None = None
    aliases: str = ""
    label: str = ""
    is_passing: bool = True
    period_only: bool = False


SPECIAL_MARKS = (
    ValueSpec(
        "н/а",
        ScaleLevel.SPECIAL,
        aliases="на,н.а.,н/a,na,n/a,нa",
        label=gettext_noop("not attested"),
        is_passing=False,
        period_only=True,
    ),
    ValueSpec(
        "звільн.",
        ScaleLevel.SPECIAL,
        aliases="звільнений,звільнена,звiльн.,осв,осв.,освобожден,exempt",
        label=gettext_noop("exempt"),
        period_only=True,
    ),
)


def _twelve_point() -> list[ValueSpec]:
    def level(n: int) -> str:
        return [ScaleLevel.INITIAL, ScaleLevel.AVERAGE, ScaleLevel.SUFFICIENT, ScaleLevel.HIGH][(n - 1) // 3]

    return [ValueSpec(str(n), level(n), Decimal(n), is_passing=n >= 4) for n in range(1, 13)]


def _five_point(with_one: bool) -> list[ValueSpec]:
    values = [
        ValueSpec("2", ScaleLevel.FAIL, Decimal(2), is_passing=False),
        ValueSpec("3", ScaleLevel.AVERAGE, Decimal(3)),
        ValueSpec("4", ScaleLevel.SUFFICIENT, Decimal(4)),
        ValueSpec("5", ScaleLevel.HIGH, Decimal(5)),
    ]
    if with_one:
        values.insert(0, ValueSpec("1", ScaleLevel.FAIL, Decimal(1), is_passing=False))
    return values


PASS_FAIL = [
    ValueSpec("зар.", ScaleLevel.PASS, aliases="зар,зараховано,зач,зач.,зачтено,pass", label=gettext_noop("passed")),
    ValueSpec(
        "не зар.",
        ScaleLevel.FAIL,
        aliases="незар,незар.,незач,незач.,не зач,не зач.,fail",
        label=gettext_noop("not passed"),
        is_passing=False,
    ),
]

VERBAL = [
    ValueSpec("поч.", ScaleLevel.INITIAL, aliases="початковий,п", label=gettext_noop("initial")),
    ValueSpec("сер.", ScaleLevel.AVERAGE, aliases="середній,с", label=gettext_noop("average")),
    ValueSpec("дост.", ScaleLevel.SUFFICIENT, aliases="достатній,д", label=gettext_noop("sufficient")),
    ValueSpec("вис.", ScaleLevel.HIGH, aliases="високий,в", label=gettext_noop("high")),
]


def create_scale(school: School, name: str, kind: str, specs: list[ValueSpec]) -> MarkingScale:
    scale = MarkingScale.objects.create(school=school, name=name, kind=kind)
    ScaleValue.objects.bulk_create(
        ScaleValue(
            school=school,
            scale=scale,
            code=s.code,
            aliases=s.aliases,
            label=s.label,
            numeric=s.numeric,
            level=s.level,
            ordinal=i,
            is_passing=s.is_passing,
            period_only=s.period_only,
        )
        for i, s in enumerate([*specs, *SPECIAL_MARKS])
    )
    return scale


def create_standard_scales(school: School, *, five_point_with_one: bool = False) -> dict[str, MarkingScale]:
    """Create the four standard scales and make the country's usual one the school default."""
    scales: dict[str, MarkingScale] = {
        ScaleKind.TWELVE: create_scale(school, "12-бальна", ScaleKind.TWELVE, _twelve_point()),
        ScaleKind.FIVE: create_scale(school, "5-бальна", ScaleKind.FIVE, _five_point(five_point_with_one)),
        ScaleKind.PASS_FAIL: create_scale(school, "Зараховано / не зараховано", ScaleKind.PASS_FAIL, PASS_FAIL),
        ScaleKind.VERBAL: create_scale(school, "Рівні (початкова школа)", ScaleKind.VERBAL, VERBAL),
    }
    school.default_scale = scales[ScaleKind.TWELVE] if school.country == "UA" else scales[ScaleKind.FIVE]
    school.save(update_fields=["default_scale"])
    return scales
