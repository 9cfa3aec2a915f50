"""Four-word handles from the BIP-39 English word list (2048 words, 11 bits each: 44 bits).

Handles are memorable and easy to say, e.g. ``orange-eagle-river-seven``. Parsing is
forgiving: any case, words separated by dashes, spaces, underscores, dots or commas,
and (as BIP-39 guarantees) any word may be shortened to its first four letters.
"""

from __future__ import annotations

import difflib
import re
import secrets
from functools import lru_cache

from valueprint.errors import HandleError

WORDS_PER_HANDLE = 4
BITS_PER_WORD = 11
HANDLE_BITS = WORDS_PER_HANDLE * BITS_PER_WORD
_SEPARATORS = re.compile(r"[\s\-_.,;:/]+")


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    from mnemonic import Mnemonic

    words = tuple(Mnemonic("english").wordlist)
    if len(words) != 2**BITS_PER_WORD:
        raise HandleError(f"the mnemonic package's English list has {len(words)} words, expected 2048")
    return words


@lru_cache(maxsize=1)
def _lookup() -> dict[str, int]:
    """Word and four-letter prefix -> index (BIP-39 words are unique in their first four letters)."""
    table: dict[str, int] = {}
    for index, word in enumerate(wordlist()):
        table[word] = index
        table.setdefault(word[:4], index)
    return table


def handle_from_int(number: int) -> str:
    if not 0 <= number < 2**HANDLE_BITS:
        raise HandleError(f"a handle encodes {HANDLE_BITS} bits; {number} is out of range")
    words = wordlist()
    parts = [(number >> (BITS_PER_WORD * i)) & (2**BITS_PER_WORD - 1) for i in reversed(range(WORDS_PER_HANDLE))]
    return "-".join(words[p] for p in parts)


def handle_to_int(handle: str) -> int:
    number = 0
    for word in parse_handle(handle).split("-"):
        number = (number << BITS_PER_WORD) | _lookup()[word]
    return number


def generate_handle() -> str:
    """A new random handle (44 bits from the system's CSPRNG)."""
    return handle_from_int(secrets.randbits(HANDLE_BITS))


def generate_words(count: int) -> str:
    """`count` random BIP-39 words joined by dashes (11 bits each), e.g. for resume codes."""
    words = wordlist()
    return "-".join(secrets.choice(words) for _ in range(count))


def parse_handle(text: str, count: int = WORDS_PER_HANDLE) -> str:
    """Normalise words typed by a person to their canonical ``word-word-…`` form."""
    if not isinstance(text, str) or len(text) > 200:
        raise HandleError(f"expected {count} words such as 'orange-eagle-river-seven'")
    parts = [p for p in _SEPARATORS.split(text.strip().lower()) if p]
    if len(parts) != count:
        raise HandleError(f"expected {count} words, got {len(parts)}: {text!r}")
    words = wordlist()
    canonical = []
    for part in parts:
        index = _lookup().get(part)
        if index is None:
            guess = difflib.get_close_matches(part, words, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            raise HandleError(f"{part!r} is not one of the words used{hint}")
        canonical.append(words[index])
    return "-".join(canonical)
