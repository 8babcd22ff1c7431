"""Pages that arrive as plain text (a browser's "save as text", a copy of the page).

The shape of an aggregator dump: interface lines (menu, cookie notice, font-size
controls), the title, counters, a date line, the body paragraphs (a teaser ends in
a run of dots), a "© Publisher" credit, and app badges. Which lines are interface is
site knowledge, read from the matching rule's ``[text]`` table plus the generic
``noise.toml``; the layout logic below is the same for every site.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import ValidationError

from cleaner.dates import pick_date
from cleaner.errors import ExtractionError, rejection
from cleaner.limits import check_size
from cleaner.models import Article, RejectReason
from cleaner.noise import is_noise_line, normalize_text, strip_truncation
from cleaner.rules import SiteRules, Text, builtin_rules, find_rules
from cleaner.urls import is_http_url

_URL = re.compile(r"https?://\S+")
_GENERIC_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y %H:%M")


def _rule_for_text(
    lines: list[str], host: str, rules: tuple[SiteRules, ...] | None
) -> SiteRules | None:
    rule = find_rules(host, None, rules) if host else None
    if rule is not None:
        return rule
    for candidate in builtin_rules() if rules is None else rules:
        markers = [re.compile(marker) for marker in candidate.match.text_markers]
        if markers and any(marker.search(line) for line in lines for marker in markers):
            return candidate
    return None


def _credit(line: str, text: Text) -> str | None:
    """The publisher named by a credit line ("© Publisher"), or None."""
    for prefix in text.credit_prefixes:
        if line.startswith(prefix):
            name = _URL.sub("", line[len(prefix) :]).strip(" :-–—")
            return name or None
    return None


def extract_text(
    text: str,
    url: str | None = None,
    fetched_at: datetime | None = None,
    *,
    rules: tuple[SiteRules, ...] | None = None,
) -> Article:
    """Turn a page saved as plain text into a validated `Article`.

    Args:
        text: the page's text, one element per line as a browser renders it.
        url: the page's address. A text dump does not carry one, and the record's id
            derives from it, so it is required; ``None`` raises `ExtractionError`
            (``invalid_url``) rather than inventing a placeholder.
        fetched_at: when the page was fetched (time-zone aware).
        rules: site rules to consider instead of the shipped ones.

    Raises:
        ExtractionError: no URL, text over the size cap, or no article; ``reason`` says why.
    """
    check_size(text)
    if url is None or not is_http_url(url):
        raise ExtractionError(
            RejectReason.INVALID_URL,
            f"a text dump needs the page's absolute http(s) URL, got {url!r}",
        )
    lines = [normalize_text(line) for line in text.replace("\r\n", "\n").split("\n")]
    host = (urlsplit(url).hostname or "").lower()
    rule = _rule_for_text(lines, host, rules)
    text_rules = rule.text if rule is not None else Text()
    formats = tuple(rule.date_formats) if rule is not None and rule.date_formats else ()
    kept = [
        line
        for line in lines
        if line and not is_noise_line(line, text_rules.noise_lines, text_rules.noise_patterns)
    ]
    fields = _layout(kept, text_rules, formats or _GENERIC_DATE_FORMATS, fetched_at)
    if rule is not None and rule.kind == "aggregator":
        fields["aggregator"] = rule.display_name
    elif rule is not None:
        fields.setdefault("source", rule.display_name)
    fields.setdefault("source", host)
    try:
        return Article.model_validate({**fields, "url": url, "fetched_at": fetched_at})
    except ValidationError as error:
        raise rejection(error) from None


def _layout(
    lines: list[str], text: Text, formats: tuple[str, ...], fetched_at: datetime | None
) -> dict[str, object]:
    """Title, date, body, credit and truncation from the noise-free lines."""
    fields: dict[str, object] = {}
    date_index = None
    for index, line in enumerate(lines):
        picked = pick_date([line], fetched_at, formats) if len(line) <= 40 else None
        if picked is not None:
            fields["date_raw"], fields["date"] = picked
            date_index = index
            break
    head = lines[:date_index] if date_index is not None else lines[:1]
    if head:
        fields["title"] = head[0]
    start = date_index + 1 if date_index is not None else 1
    body: list[str] = []
    for line in lines[start:]:
        credit = _credit(line, text)
        if credit is not None:
            fields["source"] = credit
            urls = _URL.findall(line)
            if urls and is_http_url(urls[0]):
                fields["source_url"] = urls[0]
            break
        body.append(line)
    joined, truncated = strip_truncation("\n\n".join(body), text.truncation_suffixes)
    fields["body"], fields["truncated"] = joined, truncated
    return fields
