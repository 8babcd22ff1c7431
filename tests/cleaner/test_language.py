"""The language identifier: compact tables in every cleaning process, the same answers."""

from __future__ import annotations

from array import array

from py3langid.langid import visit_counts

from cleaner.language import _identifier, detect_language

_TEXTS = {
    "en": "The last bus out of the market square leaves at twenty past seven, so anyone "
    "who works a late shift walks home or pays for a taxi.",
    "de": "Der letzte Bus vom Marktplatz fährt um zwanzig nach sieben, und wer spät "
    "arbeitet, geht zu Fuß nach Hause oder nimmt ein Taxi.",
    "fr": "Le dernier bus de la place du marché part à sept heures vingt, et ceux qui "
    "travaillent tard rentrent à pied ou prennent un taxi.",
    "ru": "Последний автобус с рыночной площади уходит в двадцать минут восьмого, и тот, "
    "кто работает допоздна, идёт домой пешком.",
}


def test_the_tokenizer_tables_are_arrays_not_lists_of_python_ints() -> None:
    identifier = _identifier()
    assert isinstance(identifier._rowbase, array) and isinstance(identifier.tk_output, array)


def test_the_compact_tables_walk_every_text_as_the_lists_did() -> None:
    identifier = _identifier()
    rowbase, output = list(identifier._rowbase), list(identifier.tk_output)
    for text in _TEXTS.values():
        encoded = identifier._encode(text)
        walked = visit_counts(
            identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, encoded
        )
        assert walked == visit_counts(identifier.tk_nextmove, rowbase, output, encoded)
        assert walked


def test_each_language_is_told() -> None:
    assert {code: detect_language(text) for code, text in _TEXTS.items()} == {
        code: code for code in _TEXTS
    }
