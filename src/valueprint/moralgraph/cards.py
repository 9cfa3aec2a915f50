"""What a values card, a context, a story and a "why" may be: the rules, checked before anything is stored.

A values card is a title, a one-line description and 3-7 attentional policies: the things a person pays
attention to when choosing well in a context ("MOMENTS when the other person falls silent", "CHANCES for
them to say what they need"). Every error names the field and the rule, so the person can fix the card
and lose nothing; text is tidied (line endings, control characters, outer blanks) but never reworded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from valueprint.errors import CardError

MIN_POLICIES, MAX_POLICIES = 3, 7
TITLE_CHARS = (3, 100)
DESCRIPTION_CHARS = (5, 300)
POLICY_CHARS = (8, 300)
CONTEXT_CHARS = (8, 200)
STORY_CHARS = (20, 2000)
WHY_CHARS = 1000
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Card:
    """A checked card: the person's own words, tidied."""

    title: str
    description: str
    policies: tuple[str, ...]

    def text(self) -> str:
        """What deduplication compares: the whole card as one passage."""
        return card_text(self.title, self.description, self.policies)


def card_text(title: str, description: str, policies: tuple[str, ...] | list[str]) -> str:
    return " ".join([f"{title}.", description.rstrip(".") + ".", *(p.rstrip(".") + "." for p in policies)])


def text_of(value: object, field: str) -> str:
    """`value` as text that can be stored (valid Unicode); CardError naming `field` otherwise."""
    if not isinstance(value, str):
        raise CardError(f"{field} must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CardError(f"{field} must be valid Unicode text") from None
    return value


def one_line(value: object, field: str, limits: tuple[int, int]) -> str:
    """A single line of text within `limits` characters; CardError naming `field` otherwise."""
    value = text_of(value, field)
    return within(SPACES.sub(" ", CONTROL.sub("", value)).strip(), field, limits)


def paragraph(value: object, field: str, limits: tuple[int, int]) -> str:
    """Free text (line breaks kept) within `limits` characters."""
    value = text_of(value, field)
    return within(CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip(), field, limits)


def within(cleaned: str, field: str, limits: tuple[int, int]) -> str:
    """`cleaned` if its length lies within `limits`; CardError naming `field` otherwise."""
    low, high = limits
    if len(cleaned) < low:
        raise CardError(f"{field} needs at least {low} characters")
    if len(cleaned) > high:
        raise CardError(f"{field} is at most {high} characters; this one has {len(cleaned)}")
    return cleaned


def check_card(title: object, description: object, policies: object) -> Card:
    """The card as the person wrote it, tidied; CardError naming what to fix."""
    checked_title = one_line(title, "the title", TITLE_CHARS)
    checked_description = one_line(description, "the description", DESCRIPTION_CHARS)
    if not isinstance(policies, list | tuple):
        raise CardError("the attentional policies must be a list of short lines")
    written = [p for p in policies if not (isinstance(p, str) and not p.strip())]  # empty fields are unused rows
    if not MIN_POLICIES <= len(written) <= MAX_POLICIES:
        raise CardError(
            f"a values card has {MIN_POLICIES} to {MAX_POLICIES} attentional policies (what you pay attention to); "
            f"this one has {len(written)}"
        )
    checked = [one_line(p, f"attentional policy {i}", POLICY_CHARS) for i, p in enumerate(written, 1)]
    seen: dict[str, int] = {}
    for i, policy in enumerate(checked, 1):
        key = policy.casefold()
        if key in seen:
            raise CardError(f"attentional policies {seen[key]} and {i} are the same; write each one once")
        seen[key] = i
    return Card(checked_title, checked_description, tuple(checked))


def check_context(text: object) -> str:
    """A context as "when …": a short situation, one line. "When" is added if the person left it out."""
    cleaned = one_line(text, "the context", CONTEXT_CHARS).rstrip(".?!")
    first = cleaned.split(" ", 1)[0].casefold()
    cleaned = "when" + cleaned[4:] if first == "when" else "when " + cleaned[0].lower() + cleaned[1:]
    if len(cleaned) > CONTEXT_CHARS[1]:
        raise CardError(f"the context is at most {CONTEXT_CHARS[1]} characters, with its leading 'when'")
    return cleaned


def check_why(value: object) -> str | None:
    """An optional reason, at most WHY_CHARS characters (None when empty)."""
    if value is None:
        return None
    value = text_of(value, "the reason (why)")
    cleaned = CONTROL.sub("", value.replace("\r\n", "\n")).strip()
    if len(cleaned) > WHY_CHARS:
        raise CardError(f"the reason (why) is at most {WHY_CHARS} characters; this one has {len(cleaned)}")
    return cleaned or None


def check_story(value: object) -> str:
    return paragraph(value, "the story", STORY_CHARS)
