"""The portfolio as a PDF (R8.2), through the printing app's WeasyPrint ``render_pdf``: the entries the reader
sees, every page carrying the school, the generation time, the portfolio's fingerprint and page N of M."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.portfolios.queries import Portfolio
from classbook.printing.documents import render_pdf
from classbook.schools.models import School


def _css_string(value: str) -> str:
    """``value`` as a CSS string literal (the page's margin boxes are written in CSS)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return f'"{escaped}"'


def _page_css(school: School, portfolio: Portfolio) -> str:
    generated = timezone.localtime().strftime("%d.%m.%Y %H:%M")
    foot = _("Generated %(time)s · verification code %(code)s") % {"time": generated, "code": portfolio.fingerprint}
    return (
        "@page { size: A4; margin: 14mm 12mm;"
        f" @top-left {{ content: {_css_string(school.name)}; font-size: 7pt; }}"
        f" @bottom-left {{ content: {_css_string(foot)}; font-size: 7pt; }}"
        ' @bottom-right { content: counter(page) " / " counter(pages); font-size: 7pt; }'
        " }"
    )


def portfolio_pdf(school: School, portfolio: Portfolio) -> bytes:
    html = render_to_string(
        "portfolios/portfolio_pdf.html",
        {"school": school, "portfolio": portfolio, "page_css": _page_css(school, portfolio)},
    )
    return render_pdf(html)
