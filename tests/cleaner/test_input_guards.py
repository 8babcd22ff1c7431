"""The cheap checks before parsing: what they skip must be what they can prove."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.limits import nesting_depth

_TAGS = st.sampled_from(
    ["<div>", "</div>", "<div/>", "<span>", "</span>", "<p>", "</p>", "<br>", "<!-- c -->",
     "<svg>", "</svg>", "<path/>", "<b class='x'>", "</b>", "text", "a < b", "</ div>"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_TAGS, max_size=60))
def test_the_depth_estimate_never_exceeds_the_start_tags(parts: list[str]) -> None:
    """check_structure skips the estimate when start tags ("<" but not "</") are under
    the cap: sound only while the estimate never exceeds their number."""
    html = "".join(parts)

    assert nesting_depth(html) <= html.count("<") - html.count("</")
