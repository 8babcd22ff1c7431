"""`canonicalize_url`'s shortcut for URLs already canonical gives what the general code
gives, for any URL (or fails as it fails)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from cleaner.urls import _canonicalized, canonicalize_url

# Pieces in every shape the shortcut must refuse or take: cases, trailing dots, user
# info, IPv6 literals, default, zero-led, empty and out-of-range ports, queries with
# tracking parameters, fragments, spaces, controls, letters of other scripts.
_schemes = st.sampled_from(["http", "https", "HTTP", "Https", "ftp", ""])
_labels = st.sampled_from(
    ["example", "EXAMPLE", "a-b", "-a", "127", "0", "xn--bcher-kva", "bücher", "_x", ""]
)
_hosts = st.one_of(
    st.lists(_labels, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["[::1]", "[2001:DB8::1]", "user:pw@example.org", "example.org.", ""]),
)
_ports = st.sampled_from(["", ":80", ":443", ":8080", ":080", ":0", ":65535", ":65536", ":", ":x"])
_paths = st.one_of(
    st.sampled_from(
        ["", "/", "/p/1", "/a b", "/a%20b", "/x?utm_source=y&b=2&a=1", "/x?", "/x#top", "//x"]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12).map(
        lambda text: "/" + text
    ),
)


@given(_schemes, _hosts, _ports, _paths, st.sampled_from(["", " ", "\t", "\n"]))
@example("http", "127.0.0.2", ":8080", "/p/1", "")
@example("https", "example.org", ":443", "/p", "")
@example("http", "example.org", ":99999", "/p", "")
def test_the_shortcut_gives_what_the_general_code_gives(
    scheme: str, host: str, port: str, path: str, space: str
) -> None:
    url = f"{space}{scheme}://{host}{port}{path}{space}"
    try:
        expected: str | type[ValueError] = _canonicalized(url)
    except ValueError:
        expected = ValueError
    try:
        got: str | type[ValueError] = canonicalize_url(url)
    except ValueError:
        got = ValueError

    assert got == expected


def test_a_canonical_url_is_returned_as_it_is_and_others_are_still_canonicalized() -> None:
    canonical = "http://127.0.0.2:8080/p/12"

    assert canonicalize_url(canonical) is canonical
    assert canonicalize_url("HTTP://Example.org:80/p/1?b=2&utm_source=x&a=1#c") == (
        "http://example.org/p/1?a=1&b=2"
    )
