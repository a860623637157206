"""The help articles: files in the repository, read once per process, searched in memory (R9.4, docs/help.md).

Each article is one file per language, ``articles/<lang>/<slug>.html``: a front matter between ``---`` lines
(``title``, ``roles``, ``keywords``, ``pages``) and an HTML fragment. The files are ours (reviewed like code),
so their HTML is trusted; nothing typed by a user is ever put into them. No database: a help page costs no
query beyond the session, the user and the school context.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from classbook.access.help import AUDIENCES

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"
FIELDS = ("title", "roles", "keywords", "pages")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_QUERY = 200


class ArticleError(ValueError):
    """An article file that does not follow the format (raised when the files are loaded)."""


@dataclass(frozen=True)
class Article:
    slug: str
    language: str
    title: str
    audiences: frozenset[str]
    keywords: tuple[str, ...]
    pages: tuple[str, ...]  # URL names ("journal:grid") of the pages the article explains
    body: SafeString
    search_title: str
    search_keywords: str
    search_text: str


def normalize(text: str) -> str:
    """Case-folded, accents and apostrophes unified: "Оцінку" finds "оцінку", "ё" finds "е", "пам'ять" "пам’ять"."""
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return re.sub(r"[’ʼ`´]", "'", text)


def parse_article(path: Path, language: str) -> Article:
    raw = path.read_text(encoding="utf-8")
    parts = raw.split("---\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise ArticleError(f"{path}: no front matter between '---' lines")
    meta: dict[str, str] = {}
    for line in parts[1].splitlines():
        if line.strip():
            key, sep, value = line.partition(":")
            if not sep or key.strip() not in FIELDS:
                raise ArticleError(f"{path}: unknown front matter line {line!r}")
            meta[key.strip()] = value.strip()
    if not meta.get("title"):
        raise ArticleError(f"{path}: no title")
    audiences = frozenset(meta.get("roles", "").split())
    if not audiences or not audiences <= set(AUDIENCES):
        raise ArticleError(f"{path}: roles must be some of {', '.join(AUDIENCES)}")
    keywords = tuple(k.strip() for k in meta.get("keywords", "").split(",") if k.strip())
    body = parts[2].strip()
    return Article(
        slug=path.stem,
        language=language,
        title=meta["title"],
        audiences=audiences,
        keywords=keywords,
        pages=tuple(meta.get("pages", "").split()),
        body=mark_safe(body),  # noqa: S308 - a file of the repository, never user input (docs/help.md)
        search_title=normalize(meta["title"]),
        search_keywords=normalize(" ".join(keywords)),
        search_text=normalize(html.unescape(re.sub(r"<[^>]+>", " ", body))),
    )


@functools.cache
def library() -> dict[str, dict[str, Article]]:
    """Every article by language and slug, read from the files once per process."""
    found: dict[str, dict[str, Article]] = {}
    for code, _name in settings.LANGUAGES:
        folder = ARTICLES_DIR / code
        articles = [parse_article(p, code) for p in sorted(folder.glob("*.html"))]
        bad = [a.slug for a in articles if not SLUG.match(a.slug)]
        if bad:
            raise ArticleError(f"{folder}: bad file names {bad}")
        found[code] = {a.slug: a for a in articles}
    return found


def current_language() -> str:
    code = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return code if code in library() else "en"


def articles() -> list[Article]:
    """The articles in the current language, by title."""
    return sorted(library()[current_language()].values(), key=lambda a: normalize(a.title))


def article(slug: str) -> Article | None:
    return library()[current_language()].get(slug)


@functools.cache
def _by_page() -> dict[str, tuple[str, ...]]:
    """URL name → slugs of the articles that explain the page (the same in every language)."""
    index: dict[str, list[str]] = {}
    for a in sorted(library()["en"].values(), key=lambda a: a.slug):
        for name in a.pages:
            index.setdefault(name, []).append(a.slug)
    return {name: tuple(slugs) for name, slugs in index.items()}


def slugs_for_page(url_name: str) -> tuple[str, ...]:
    return _by_page().get(url_name, ())


def search(query: str, candidates: list[Article]) -> list[Article]:
    """Articles holding every word of ``query`` in their title, keywords or text; title hits first."""
    words = normalize(query[:MAX_QUERY]).split()
    if not words:
        return []
    scored = []
    for a in candidates:
        haystack = f"{a.search_title} {a.search_keywords} {a.search_text}"
        if all(w in haystack for w in words):
            score = sum(3 * (w in a.search_title) + 2 * (w in a.search_keywords) for w in words)
            scored.append((-score, normalize(a.title), a))
    return [a for *_key, a in sorted(scored, key=lambda t: (t[0], t[1]))]
