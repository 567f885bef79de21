"""README markdown to safe HTML."""

from __future__ import annotations

from foretell.web.readme import render_readme


def test_common_markdown_becomes_html() -> None:
    """Headings (moved down), paragraphs, lists, code, tables, links and emphasis render."""
    html = render_readme(
        "# Title\n\nSome **bold** and `code` and [a link](https://example.com).\n\n"
        "- one\n- two\n\n```python\nprint('<hi>')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        shift=2,
    )
    assert "<h3>Title</h3>" in html
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://example.com">a link</a>' in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<pre><code>print(&#x27;&lt;hi&gt;&#x27;)</code></pre>" in html
    assert "<td>1</td><td>2</td>" in html


def test_html_in_a_readme_is_escaped() -> None:
    """A README cannot inject markup or script: tags and javascript: links stay text."""
    html = render_readme(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<script>" not in html and "<img" not in html
    assert 'href="javascript' not in html
