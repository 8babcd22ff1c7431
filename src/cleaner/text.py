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

from cleaner.credits import own_names
from cleaner.errors import ExtractionError, rejection
from cleaner.language import detect_language
from cleaner.limits import check_size
from cleaner.models import Article
from cleaner.noise import is_noise_line, normalize_text, strip_truncation
from cleaner.pages import canonical_page_url, refuse_listing
from cleaner.reasons import RejectReason
from cleaner.relative_dates import read_date_line
from cleaner.rules import RelativeDates, SiteRules, Text, builtin_rules, find_rules
from cleaner.sniff import refuse_binary
from cleaner.teasers import teaser_body, teaser_source
from cleaner.urls import is_http_url

_GENERIC_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y %H:%M")
# The date line comes right after the title (and the counters): within the first lines.
_DATE_WITHIN = 4


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
        fetched_at: when the page was fetched (time-zone aware); relative dates
            ("yesterday") are read against it, and stay unresolved without it.
        rules: site rules to consider instead of the shipped ones.

    Raises:
        ExtractionError: no URL, text over the size cap, binary data (``not_html``), a
            listing page, or no article; ``reason`` says why.
    """
    check_size(text)
    refuse_binary(text)
    if url is None or not is_http_url(url):
        raise ExtractionError(
            RejectReason.INVALID_URL,
            f"a text dump needs the page's absolute http(s) URL, got {url!r}",
        )
    lines = [normalize_text(line) for line in text.replace("\r\n", "\n").split("\n")]
    host = (urlsplit(url).hostname or "").lower()
    rule = _rule_for_text(lines, host, rules)
    info = refuse_listing(url, rule)
    text_rules = rule.text if rule is not None else Text()
    formats = tuple(rule.date_formats) if rule is not None and rule.date_formats else ()
    kept = [
        line
        for line in lines
        if line and not is_noise_line(line, text_rules.noise_lines, text_rules.noise_patterns)
    ]
    relative = rule.relative_dates if rule is not None else RelativeDates()
    fields, body = _layout(kept, formats or _GENERIC_DATE_FORMATS, relative, fetched_at)
    if rule is not None and rule.kind == "aggregator":
        own = own_names(rule, host)
        fields["body"], fields["truncated"], credit = teaser_body(body, rule, own)
        fields.update(teaser_source([credit], info, rule, url))
        url = canonical_page_url(url, rule)
    else:
        fields["body"], fields["truncated"] = strip_truncation(
            "\n\n".join(body), text_rules.truncation_suffixes
        )
        fields["source"] = rule.display_name if rule is not None else host
    language = detect_language(f"{fields.get('title') or ''}\n{fields.get('body') or ''}")
    fields["language"], fields["language_detected"] = language, language is not None
    try:
        return Article.model_validate({**fields, "url": url, "fetched_at": fetched_at})
    except ValidationError as error:
        raise rejection(error) from None


def _layout(
    lines: list[str],
    formats: tuple[str, ...],
    relative: RelativeDates,
    fetched_at: datetime | None,
) -> tuple[dict[str, object], list[str]]:
    """Title and date from the noise-free lines, and the lines of the body after them.

    The title is the line just before the date (chrome the rules missed sits above
    it); a page without a date line (AMP, chrome-less copies) starts with its title.
    """
    fields: dict[str, object] = {}
    for index, line in enumerate(lines[: _DATE_WITHIN + 1]):
        found = read_date_line(line, formats, relative, fetched_at)
        if found is not None and index > 0:
            fields["date_raw"], fields["date"] = found
            fields["title"] = lines[index - 1]
            return fields, lines[index + 1 :]
    if lines:
        fields["title"] = lines[0]
    return fields, lines[1:]
