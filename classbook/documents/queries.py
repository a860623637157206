"""Read helpers of the documents pages (R8.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*\s*(.*)$")


@dataclass(frozen=True)
class Block:
    kind: str  # "h2", "h3" or "p"
    text: str
    lead: str = ""  # a bold lead-in of a paragraph ("**Class teacher.** ...")


def text_blocks(text: str) -> list[Block]:
    """A text version (the shipped regulations, markdown-like) as headings and paragraphs for the page.

    Only ``#``/``##`` headings and a bold lead-in are read; everything else is plain text, escaped by the
    template, so a text uploaded by a person is shown as text and nothing in it is markup."""
    blocks: list[Block] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("## "):
            blocks.append(Block("h3", line[3:].strip()))
        elif line.startswith("# "):
            blocks.append(Block("h2", line[2:].strip()))
        elif match := _BOLD_LEAD.match(line):
            blocks.append(Block("p", match.group(2), lead=match.group(1)))
        else:
            blocks.append(Block("p", line))
    return blocks
