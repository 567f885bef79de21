"""A model's README.md as safe HTML: headings, paragraphs, lists, code, links, emphasis.

Deliberately small (no markdown dependency): everything is escaped first, and only the
common constructs a model README uses are turned into tags; anything else stays text.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+|/[^)\s]*|#[^)\s]*)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*([^*\s][^*]*)\*(?![*\w])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


def inline(text: str) -> Markup:
    """One line of markdown as safe HTML (descriptions): code spans, links, emphasis."""
    return Markup(_inline(text))  # noqa: S704 — _inline escapes everything it does not tag


def _inline(text: str) -> str:
    """Escaped text with code spans, links and emphasis (code spans are left literal)."""
    parts = _CODE.split(html.escape(text, quote=False))
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{part}</code>")
            continue
        part = _LINK.sub(lambda m: f'<a href="{m[2].replace(chr(34), "&quot;")}">{m[1]}</a>', part)
        part = _BOLD.sub(r"<strong>\1</strong>", part)
        out.append(_ITALIC.sub(r"<em>\1</em>", part))
    return "".join(out)


def _table(lines: list[str]) -> str:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    body = [r for r in rows[1:] if not all(set(c) <= set("-: ") for c in r)]
    head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0])
    cells = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table></div>'


def render_readme(markdown: str, shift: int = 1) -> str:
    """HTML for `markdown`; headings move down by `shift` levels (the page has its own h1)."""
    out: list[str] = []
    block: list[str] = []
    kind = ""  # "p", "ul", "table" or "pre" while a block is open

    def close() -> None:
        nonlocal kind
        if kind == "p":
            out.append(f"<p>{_inline(' '.join(block))}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block) + "</ul>")
        elif kind == "table":
            out.append(_table(block))
        block.clear()
        kind = ""

    for line in markdown.splitlines():
        if kind == "pre":
            if line.startswith("```"):
                out.append(f"<pre><code>{html.escape(chr(10).join(block))}</code></pre>")
                block.clear()
                kind = ""
            else:
                block.append(line)
            continue
        heading, item = _HEADING.match(line), _ITEM.match(line)
        is_row = line.strip().startswith("|")
        wanted = "pre" if line.startswith("```") else "ul" if item else "table" if is_row else "p"
        if not line.strip() or heading or wanted != kind:
            close()
        if heading:
            level = min(len(heading[1]) + shift, 6)
            out.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
        elif line.strip():
            kind = wanted
            if wanted != "pre":
                block.append(item[1] if item else line.strip())
    if kind == "pre":
        out.append(f"<pre><code>{html.escape(chr(10).join(block))}</code></pre>")
    else:
        close()
    return "\n".join(out)
