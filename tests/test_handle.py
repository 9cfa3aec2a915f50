"""Four-word handles: 44 bits, BIP-39 words, forgiving parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valueprint.errors import HandleError
from valueprint.tokens.handle import (
    HANDLE_BITS,
    generate_handle,
    handle_from_int,
    handle_to_int,
    parse_handle,
    wordlist,
)


def test_the_word_list_is_bip39_english():
    words = wordlist()
    assert len(words) == 2048
    assert words[0] == "abandon" and words[-1] == "zoo"


@given(st.integers(0, 2**HANDLE_BITS - 1))
def test_every_44_bit_number_round_trips(number):
    handle = handle_from_int(number)
    assert len(handle.split("-")) == 4
    assert handle_to_int(handle) == number


@given(st.integers(0, 2**HANDLE_BITS - 1), st.sampled_from(["-", " ", "  ", "_", ". ", ", "]), st.booleans())
def test_parsing_forgives_case_separators_and_four_letter_prefixes(number, separator, shorten):
    handle = handle_from_int(number)
    words = [w[:4] if shorten else w for w in handle.split("-")]
    typed = separator.join(w.upper() if i % 2 else w.capitalize() for i, w in enumerate(words))
    assert parse_handle(f"  {typed} ") == handle


def test_generated_handles_are_random_and_valid():
    handles = {generate_handle() for _ in range(200)}
    assert len(handles) == 200
    assert all(parse_handle(h) == h for h in handles)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("orange-eagle-river", "expected 4 words"),
        ("orange eagle river seven eight", "expected 4 words"),
        ("orange-eagel-river-seven", "did you mean 'eagle'"),
        ("orange-xyzzy-river-seven", "'xyzzy' is not one of the words used"),
        ("", "expected 4 words"),
    ],
)
def test_bad_handles_say_what_is_wrong(text, message):
    with pytest.raises(HandleError, match=message):
        parse_handle(text)
