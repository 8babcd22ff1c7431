"""The records the pipeline produces: `Article` for a page kept, `Reject` for one refused."""

from __future__ import annotations

import datetime as dt
import re
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cleaner.dates import is_after, parse_iso_date
from cleaner.noise import strip_bidi, visible_length
from cleaner.reasons import RejectReason as RejectReason  # its home before reasons.py
from cleaner.urls import article_id, canonicalize_url, is_http_url

# Counted without spaces, so that it means the same in scripts without word breaks:
# about one short sentence. A page whose "body" is shorter is a menu label or a button.
MIN_BODY_CHARACTERS = 40
_BLANK_LINES = re.compile(r"\n{3,}")


class Article(BaseModel):
    """One cleaned article; `model_dump(mode="json")` is exactly what is saved."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(default="", description="sha256 of the canonical URL, 16 hex digits")
    url: str = Field(
        description="the page's declared canonical URL, else the URL it was fetched from"
    )
    canonical_url: str | None = Field(
        default=None, description="the canonical URL the page declares, on its own site"
    )
    duplicate_of: str | None = Field(
        default=None, description="id of the record this one is a near-duplicate of"
    )
    title: str = Field(min_length=1)
    description: str | None = Field(default=None, description="the page's own summary")
    date: str | None = Field(
        default=None,
        description="ISO 8601 publication date; carries an offset only when the page gave one",
    )
    date_raw: str | None = Field(default=None, description="the date string as found on the page")
    date_modified: str | None = Field(
        default=None, description="ISO 8601 date of the last update, when the page states one"
    )
    body: str = Field(min_length=1, description="paragraphs separated by a blank line")
    source: str = Field(min_length=1, description="publisher name")
    authors: list[str] = Field(default_factory=list)
    section: str | None = Field(default=None, description="the section the page files it under")
    tags: list[str] = Field(default_factory=list, description="the page's keywords")
    image: str | None = Field(default=None, description="the lead image's absolute URL")
    aggregator: str | None = Field(
        default=None, description="where it was found, if not the publisher"
    )
    source_url: str | None = Field(default=None, description="the original article, when known")
    language: str | None = Field(default=None, description="as declared, else detected")
    language_detected: bool = Field(
        default=False, description="language was detected from the text, not declared"
    )
    truncated: bool = Field(default=False, description="the body is a teaser, cut by the page")
    paywalled: bool | None = Field(
        default=None, description="the publisher's own claim (isAccessibleForFree), if any"
    )
    fetched_at: datetime | None = None

    @field_validator(
        "title",
        "description",
        "date_raw",
        "body",
        "source",
        "section",
        "tags",
        "aggregator",
        "language",
        mode="before",
    )
    @classmethod
    def _no_bidi_controls(cls, value: object) -> object:
        # Whatever path a text took to the record (site rule, metadata, a text dump),
        # it is shown to people: no reordering controls in it.
        if isinstance(value, list):
            return [strip_bidi(v) if isinstance(v, str) else v for v in value]
        return strip_bidi(value) if isinstance(value, str) else value

    @field_validator("url", "canonical_url")
    @classmethod
    def _canonical_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_http_url(value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return canonicalize_url(value)

    @field_validator("source_url", "image")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value

    @field_validator("date", "date_modified")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_iso_date(value).isoformat()
        except ValueError:
            raise ValueError(f"must be ISO 8601, got {value!r}") from None

    @field_validator("body")
    @classmethod
    def _normalized_body(cls, value: str) -> str:
        # (Each scan of a whole body is skipped when there is nothing for it to change.)
        body = value.replace("\r\n", "\n") if "\r" in value else value
        body = (_BLANK_LINES.sub("\n\n", body) if "\n\n\n" in body else body).strip()
        letters = visible_length(body)
        if 0 < letters < MIN_BODY_CHARACTERS:
            raise PydanticCustomError(
                "short_body",
                "a body of {letters} characters is not an article (a menu label, a button)",
                {"letters": letters},
            )
        return body

    @field_validator("authors", "tags")
    @classmethod
    def _distinct_authors(cls, value: list[str]) -> list[str]:
        names = (strip_bidi(name).strip() for name in value)
        return list(dict.fromkeys(name for name in names if name))

    @field_validator("fetched_at")
    @classmethod
    def _aware_fetched_at(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("fetched_at must carry a time zone")
        return value

    @model_validator(mode="after")
    def _derived_and_consistent(self) -> Self:
        expected_id = article_id(self.url)
        if self.id and self.id != expected_id:
            raise ValueError(f"id {self.id!r} does not match the url (expected {expected_id!r})")
        object.__setattr__(self, "id", expected_id)
        if (
            self.date is not None
            and self.fetched_at is not None
            and is_after(self.date, self.fetched_at)
        ):
            raise PydanticCustomError(
                "future_date",
                "date {date} is after the fetch time {fetched_at}",
                {"date": self.date, "fetched_at": self.fetched_at.isoformat()},
            )
        return self

    @property
    def published(self) -> dt.date | datetime | None:
        """The date as a Python object (a `date` when the page gave no time)."""
        return None if self.date is None else parse_iso_date(self.date)


class Reject(BaseModel):
    """A page that did not become an Article, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    reason: RejectReason
    detail: str = ""
    status: int | None = None
    fetched_at: datetime | None = None
