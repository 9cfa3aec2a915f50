"""Presidio's pattern recognisers, run fully offline, plus this project's address and ID patterns.

Presidio's `AnalyzerEngine` wants an NLP engine, and its default loads (and if missing,
downloads) the spaCy model `en_core_web_lg`. Official spaCy models are not on the registries
this project can reach, and nothing may be downloaded at run time, so the engine here is
spaCy's blank English pipeline: a rule-based tokenizer with no trained weights, which is all
that Presidio's pattern recognisers and its context enhancer need (they look for words such
as "phone" or "passport" near a match). A blank pipeline has no lemmatizer, so a one-line
component sets each token's lemma to its lower-cased text; the enhancer compares lemmas.
Person names come from `names.py`, not from spaCy (a blank pipeline has no NER).

The e-mail recogniser checks the domain with `tldextract`, whose default extractor fetches
the public-suffix list over the network on first use; it is replaced by an extractor that
reads only the snapshot shipped inside the tldextract wheel.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from valueprint.evaluate.backbone import require

# Presidio's entity names → this project's placeholder types.
PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "ID",
    "US_SSN": "ID",
    "UK_NHS": "ID",
    "UK_NINO": "ID",
    "UK_PASSPORT": "ID",
    "US_PASSPORT": "ID",
    "PASSPORT_LIKE": "ID",
    "IP_ADDRESS": "IP",
    "URL": "URL",
    "STREET_ADDRESS": "ADDRESS",
    "UK_POSTCODE": "ADDRESS",
}
# An NHS number is any ten digits passing a mod-11 check, as one in eleven phone numbers do:
# it counts only with one of these words in the text.
NEEDS_WORD = {"UK_NHS": ("nhs", "health")}
MIN_SCORE = 0.3  # Presidio's "weak" patterns (0.05-0.1) count only when context words raise them

# Bare domains kept as they are: a well-known site's bare name identifies an organisation,
# not a person ("I read it on reddit.com"). Any path, query or fragment may carry a user
# name or a personal page, and an unknown domain may be someone's own, so those are redacted.
WELL_KNOWN_DOMAINS = frozenset(
    (
        "google.com",
        "youtube.com",
        "facebook.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "reddit.com",
        "wikipedia.org",
        "amazon.com",
        "linkedin.com",
        "tiktok.com",
        "github.com",
        "apple.com",
        "microsoft.com",
        "netflix.com",
        "yahoo.com",
        "bing.com",
        "whatsapp.com",
        "bbc.co.uk",
        "bbc.com",
        "nytimes.com",
        "theguardian.com",
        "cnn.com",
        "gov.uk",
        "nhs.uk",
        "who.int",
        "un.org",
        "europa.eu",
        "stackoverflow.com",
        "medium.com",
        "quora.com",
        "pinterest.com",
        "ebay.com",
    )
)

# Street addresses: a house number, one to four street-name words, then a street type; then
# optionally a unit ("Apt. 4", "Suite 210") and ", Town, ST 12345" or a UK postcode. The street
# types are the common ones of English-speaking countries, written out here (not taken from the
# data the benchmark plants). Without the type word a number plus capitalised words ("3 Little
# Pigs") is too often something else, so the type is required. A bare US ZIP is five digits
# like any other number, so it counts only after a two-letter state abbreviation.
STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Place|Pl|Way|Terrace|Ter|"
    "Close|Crescent|Cres|Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Trl|Row|Mews|Gardens|Grove|"
    "Hill|Park|Walk|Path|Pike|Alley|Loop|Run|Ridge|View|Green|Heights|Expressway|Freeway|Plaza|Point|"
    "Crossing|Bend|Cove|Glen|Harbor|Harbour|Landing|Meadow|Meadows|Parade|Rise|Vale|Wharf|Wynd"
)
_UNIT = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Fl\.?|#)\s*[A-Za-z0-9\-]{1,6})?"
_TOWN_TAIL = r"(?:,?\s*\n?\s*(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}),?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
STREET_ADDRESS = (
    r"\b\d{1,6}[A-Za-z]?\s+(?:[A-Z][A-Za-z'\-]*\.?\s+){1,4}(?:" + STREET_TYPES + r")\b\.?" + _UNIT + _TOWN_TAIL
)
STATE_ZIP = r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2},\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
# An address written on one line whatever its street type: up to four comma-separated parts
# (each optionally starting with a number: "Flat 3", "12 Elm Forge", "West Bradley") ending in
# a state and ZIP or a UK postcode. The postcode at the end is what makes it an address.
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_PART = (
    r"(?:(?:[A-Z][a-z]*\.?\s+)?\d{1,6}[A-Za-z]?\s+)?[A-Z][A-Za-z'\-]*(?:\s+[A-Z][A-Za-z'\-]*\.?){0,3}(?:\s+\d{1,5})?"
)
ADDRESS_LINE = (
    r"\b" + _PART + r"(?:,\s*" + _PART + r"){0,3},?\s+(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|" + _UK_POSTCODE + r")\b"
)
# UK National Insurance number shapes, any prefix and suffix letter (examples use ZZ ... T), spaced or not.
NINO_LIKE = r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Z]\b"
# Any URL with a scheme or "www.", whatever its top-level domain (Presidio's list is closed).
URL_ANY = r"(?i)\b(?:https?://|www\d{0,3}\.)[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]"
# E-mail addresses with any RFC 5322 "atext" local part ("/@example.com" is valid; Presidio's
# pattern wants a word character first) and any top-level domain, punycode included.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
EMAIL_ANY = (
    r"(?<![" + _ATEXT + r".])[" + _ATEXT + r"]+(?:\.[" + _ATEXT + r"]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9\-]{1,59})\b"
)
# Payment cards of any issuer: 12 to 19 digits, grouped by spaces or dashes, Luhn-checked
# (Presidio's card pattern knows only some issuers' prefixes).
CARD_ANY = r"\b\d(?:[ \-]?\d){11,18}\b"
# Passport-like numbers: one or two capital letters and seven to nine digits (most countries'
# passports, many national IDs). Ordinary prose almost never has such a token.
PASSPORT_LIKE = r"\b[A-Z]{1,2}\d{7,9}\b"


def blank_english() -> Any:
    """spaCy's blank English pipeline (tokenizer only) with lemma = lower-cased text."""
    spacy = require("spacy")
    from spacy.language import Language

    if not Language.has_factory("valueprint_lower_lemma"):

        @Language.component("valueprint_lower_lemma")
        def lower_lemma(doc: Any) -> Any:
            for token in doc:
                token.lemma_ = token.lower_
            return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("valueprint_lower_lemma")
    return nlp


@cache
def analyzer() -> Any:
    """A Presidio `AnalyzerEngine` with this project's recognisers and the blank spaCy engine."""
    presidio = require("presidio_analyzer")
    import tldextract
    from presidio_analyzer import Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        NhsRecognizer,
        PhoneRecognizer,
        UkNinoRecognizer,
        UkPostcodeRecognizer,
        UrlRecognizer,
        UsPassportRecognizer,
        UsSsnRecognizer,
    )

    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return offline_tld(pattern_text.rsplit("@", 1)[-1]).suffix != ""

    class LuhnCardRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return luhn_ok(pattern_text)

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """Presidio's spaCy engine over a blank pipeline: loads nothing, downloads nothing."""

        def load(self) -> None:
            self.nlp = {"en": blank_english()}

        def get_supported_entities(self) -> list[str]:
            return []

    exact = re.DOTALL | re.MULTILINE  # Presidio's default adds IGNORECASE; these patterns rely on capitals
    registry = RecognizerRegistry(supported_languages=["en"])
    for recogniser in (
        OfflineEmailRecognizer(),
        # phonenumbers' "possible" leniency: a number that looks like a phone number is hidden
        # even when its area code is not assigned (made-up numbers are still someone's to hide).
        PhoneRecognizer(supported_regions=("US", "GB", "CA", "AU", "IE", "IN", "DE", "FR", "NZ"), leniency=0),
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UrlRecognizer(),
        UsSsnRecognizer(),
        UsPassportRecognizer(),
        NhsRecognizer(),
        UkNinoRecognizer(),
        UkPostcodeRecognizer(),
        PatternRecognizer(
            "STREET_ADDRESS",
            name="StreetAddressRecognizer",
            patterns=[Pattern("street address", STREET_ADDRESS, 0.6), Pattern("town, state zip", STATE_ZIP, 0.5)],
            context=["address", "live", "lives", "street", "moved"],
            global_regex_flags=exact,
        ),
        PatternRecognizer(
            "STREET_ADDRESS",
            name="AddressLineRecognizer",
            patterns=[Pattern("one-line address ending in a postcode", ADDRESS_LINE, 0.6)],
            global_regex_flags=exact,
        ),
        PatternRecognizer("EMAIL_ADDRESS", name="AnyEmailRecognizer", patterns=[Pattern("atext", EMAIL_ANY, 0.6)]),
        PatternRecognizer("URL", name="AnyUrlRecognizer", patterns=[Pattern("scheme or www", URL_ANY, 0.6)]),
        PatternRecognizer(
            "PASSPORT_LIKE",
            name="NinoLikeRecognizer",
            patterns=[Pattern("NI number", NINO_LIKE, 0.5)],
            global_regex_flags=exact,
        ),
        LuhnCardRecognizer("CREDIT_CARD", name="LuhnCardRecognizer", patterns=[Pattern("12-19 digits", CARD_ANY, 0.5)]),
        PatternRecognizer(
            "PASSPORT_LIKE",
            name="PassportLikeRecognizer",
            patterns=[Pattern("letters and digits", PASSPORT_LIKE, 0.4)],
            context=["passport", "id", "licence", "license", "number", "document"],
            global_regex_flags=exact,
        ),
    ):
        registry.add_recognizer(recogniser)
    engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    return presidio.AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def luhn_ok(number: str) -> bool:
    """The Luhn check digit of a card number (spaces and dashes ignored)."""
    digits = [int(c) for c in number if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return len(digits) >= 12 and total % 10 == 0


def url_is_personal(url: str) -> bool:
    """False only for a bare well-known domain (no path beyond "/", no query or fragment)."""
    match = re.fullmatch(r"(?i)(?:https?://)?(?:www\d{0,3}\.)?([a-z0-9.\-]+?)\.?(/)?", url)
    return not (match and match.group(1).lower() in WELL_KNOWN_DOMAINS)


def find(text: str) -> list[tuple[str, int, int, float]]:
    """(type, start, end, score) of every pattern match at or above `MIN_SCORE`."""
    found = []
    for result in analyzer().analyze(text=text, language="en", score_threshold=MIN_SCORE):
        kind = PRESIDIO_TYPES.get(result.entity_type)
        if kind is None:
            continue
        if result.entity_type in NEEDS_WORD and not any(w in text.lower() for w in NEEDS_WORD[result.entity_type]):
            continue
        if kind == "URL" and not url_is_personal(text[result.start : result.end]):
            continue
        found.append((kind, result.start, result.end, float(result.score)))
    return found
