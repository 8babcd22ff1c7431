"""An aggregator's teaser into record fields: body, cut, publisher, original article.

The same for text dumps and HTML pages of any ``kind = "aggregator"`` rule: the credit
near the end names the publisher (and links to the original); what follows it and the
cut marker go; with no credit, the URL's newspaper segment is the last hint. The
aggregator itself is never the source.
"""

from __future__ import annotations

from cleaner.credits import Credit, cut_teaser, newspaper_hint, split_credit
from cleaner.errors import ExtractionError
from cleaner.pages import PageInfo
from cleaner.reasons import RejectReason
from cleaner.rules import SiteRules


def teaser_body(
    blocks: list[str], rule: SiteRules, own: tuple[str, ...]
) -> tuple[str, bool, Credit | None]:
    """The teaser's paragraphs joined, whether it is cut, and the credit found in them."""
    kept, credit = split_credit(blocks, rule.credits, own)
    kept, cut = cut_teaser(kept, rule.text)
    body = "\n\n".join(line for line in kept if line.strip())
    return body, cut or rule.credits.teasers, credit


def teaser_source(
    credits: list[Credit | None], info: PageInfo | None, rule: SiteRules, url: str
) -> dict[str, object]:
    """``aggregator``, ``source`` and ``source_url`` from the credits found (best first).

    Raises:
        ExtractionError: ``no_source`` when neither a credit nor the URL names a publisher.
    """
    found = [credit for credit in credits if credit is not None]
    name = next((credit.name for credit in found if credit.name), None)
    link = next((credit.url for credit in found if credit.url), None)
    source = name or newspaper_hint(info, rule.credits)
    if source is None:
        raise ExtractionError(
            RejectReason.NO_SOURCE,
            f"{url}: no publisher credit on the page and no newspaper in the URL;"
            f" {rule.display_name} is the aggregator, not the source",
        )
    fields: dict[str, object] = {"aggregator": rule.display_name, "source": source}
    if link is not None:
        fields["source_url"] = link
    return fields
