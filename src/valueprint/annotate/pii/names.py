"""Person names, found offline: a small classifier over frozen MiniLM token states and casing.

No named-entity model ships on the package registries this project can reach (official spaCy
models are not there, and Presidio's own person recogniser needs one). So person names are
found by a head trained here: every word of a text gets the mean of its sub-word states from
the last layer of all-MiniLM-L6-v2 (the sentence encoder the evaluator already carries in its
wheel, frozen), plus casing and shape features that the uncased encoder cannot see; a small
MLP scores each word, and consecutive name words become one span. The head (a few hundred
kB of safetensors under `artefact/`) was trained by `valueprint.annotate.pii.train_names` on
CC BY 4.0 NER corpora (WNUT-17 train, the Broad Twitter Corpus, WikiGold); `artefact/SOURCE.md`
names repository, commit and licence.

Those corpora are mostly tweets, where names are often written in lower case, so the head alone
also fires on ordinary words of well-written text ("email:", "my friend", "tattling"). Rules decide
before it (`never_names`): a word is never a name when it is

- a closed-class word (spaCy's English stop words: "She", "It", "Who", "her"), or a contraction of
  two ("I've", "don't");
- the label of a personal data field ("Email:", "SSN", "Passport");
- a kinship or social-role noun or an honorific ("friend", "sister-in-law", "Husband", "Mr"): they
  stand where a name could, and they name a relation, not a person;
- a token with a digit in it ("27p", "33F": flat numbers, codes; no given name or surname has one);
- in a text written with capitals (`is_cased`), a word in lower case: names there start with a
  capital, except the particles inside a name ("Ludwig van Beethoven", "Maria da Silva", `PARTICLES`),
  which count when a name word stands on either side. In text typed all in lower case, as many tweets
  and chats are, a lower-case word may still be a name, and the head decides.

These are closed classes and facts about how names are written, not lists learned from data. The
head's threshold was chosen on a validation set of real sentences that the PII benchmark never reads
(`pii.tune_names`), with these rules in place; see `artefact/SOURCE.md`.

Loading the encoder costs about a second and 90 MB; it happens once, on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from valueprint.errors import EvaluatorError

ARTEFACT = Path(__file__).parent / "artefact" / "person_head.safetensors"
HIDDEN = 384
# A word: letters or digits, with inner apostrophes, hyphens or periods kept ("O'Neill",
# "Mary-Jane", "J.R"). Names never contain other characters, so the rest is never scored.
WORD = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")
WINDOW_WORDS = 48  # words per encoder pass: well inside MiniLM's 512 positions for ordinary text
MAX_TOKENS = 512
LONGEST_NAME_WORD = 30  # longer "words" (hashes, base64, garbage) are never names
N_SHAPE = 17  # columns of `shape_features`
SENTENCE_END = re.compile(r"[.!?\n\"“”:;(\[]\s*$")
CASING_SENTENCE_END = re.compile(r"[.!?\n\"“”(\[]\s*$")  # for `is_cased`: lower case goes on after a colon
CAN_BE_NAMES = frozenset({"may", "will"})  # stop words that are also given names (May, Will)
# The words that label personal data ("Email: ...", "SSN 123-...", "Passport number ..."): they stand
# next to what the sanitiser replaces, and are never a person's name.
FIELD_LABELS = frozenset(
    [
        "address",
        "addresses",
        "e-mail",
        "email",
        "emails",
        "mail",
        "phone",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "fax",
        "ssn",
        "passport",
        "id",
        "ids",
        "iban",
        "card",
        "visa",
        "mastercard",
        "amex",
        "number",
        "nr",
        "dob",
        "birthday",
        "national",
        "insurance",
        "account",
        "licence",
        "license",
        "postcode",
        "zip",
        "url",
        "website",
        "ip",
        "contact",
        "username",
        "password",
        "pin",
    ]
)


# Kinship and social-role nouns and honorifics: they stand where a name could ("my friend", "Grandma
# said", "Mr. Right"), and they name a relation, not a person. Plurals and "-in-law" compounds follow.
RELATIONS = frozenset(
    [
        *("mother", "mom", "mum", "mommy", "mummy", "mama", "father", "dad", "daddy", "papa"),
        *("parent", "son", "daughter", "child", "kid", "baby", "brother", "sister", "sibling", "bro", "sis"),
        *("twin", "aunt", "auntie", "aunty", "uncle", "cousin", "niece", "nephew", "grandma", "grandmother"),
        *("grandpa", "grandfather", "granny", "grandparent", "grandson", "granddaughter", "grandchild"),
        *("stepmother", "stepmom", "stepfather", "stepdad", "stepson", "stepdaughter", "stepbrother"),
        *("stepsister", "husband", "wife", "spouse", "partner", "fiance", "fiancé", "fiancee", "fiancée"),
        *("boyfriend", "girlfriend", "ex", "friend", "bestie", "buddy", "mate", "neighbour", "neighbor"),
        *("roommate", "roomie", "flatmate", "housemate", "classmate", "schoolmate", "teammate", "coworker"),
        *("colleague", "boss", "manager", "teacher", "professor", "tutor", "coach", "landlord", "landlady"),
        *("tenant", "stranger", "mr", "mrs", "ms", "mx", "dr", "sir", "madam", "madame"),
    ]
)
# Lower-case particles inside names ("van", "de", "da", "von", "bin"): a name word when a name word
# stands on either side of it (or of its run of particles: "van der").
PARTICLES = frozenset(
    [
        *("van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "des"),
        *("le", "la", "ter", "ten", "te", "zu", "vom", "bin", "ibn", "al", "el"),
    ]
)


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str


def words_of(text: str) -> list[Word]:
    """The words of `text` with their character offsets; a possessive "'s" is not part of its word, so that
    "John's" is read (and redacted) as the name "John", as the CoNLL corpora the head learned from split it."""
    words = []
    for match in WORD.finditer(text):
        start, end = match.span()
        if end - start > 3 and text[end - 2] in "'’" and text[end - 1] in "sS":
            end -= 2
        words.append(Word(start, end, text[start:end]))
    return words


def shape_features(text: str, words: Sequence[Word]) -> np.ndarray:
    """Casing and shape of each word and its neighbours (the encoder is uncased)."""

    def own(word: Word) -> list[float]:
        w = word.text
        letters = [c for c in w if c.isalpha()]
        title = bool(letters) and w[0].isupper() and not any(c.isupper() for c in w[1:] if c.isalpha())
        upper = len(letters) > 1 and all(c.isupper() for c in letters)
        inner_upper = w[0].isupper() and any(c.isupper() for c in w[1:]) and not upper  # McDonald, DeShawn
        lower = bool(letters) and all(c.islower() for c in letters)
        return [
            float(title),
            float(upper),
            float(inner_upper),
            float(lower),
            float(any(c.isdigit() for c in w)),
            float(not letters or not w.isascii()),
            min(len(w), 15) / 15.0,
        ]

    rows = []
    blank = [0.0] * 7
    for i, word in enumerate(words):
        before = text[max(0, word.start - 3) : word.start]
        starts_sentence = i == 0 or bool(SENTENCE_END.search(before)) or before.endswith("\n")
        previous = own(words[i - 1]) if i > 0 else blank
        following = own(words[i + 1]) if i + 1 < len(words) else blank
        mention = word.start > 0 and text[word.start - 1] in "@#"
        rows.append([*own(word), float(starts_sentence), float(mention), *previous[:4], *following[:4]])
    return np.asarray(rows, dtype=np.float32).reshape(len(words), N_SHAPE)


@cache
def closed_class() -> frozenset[str]:
    """Words that are never names: spaCy's English stop words (pronouns, determiners, auxiliaries, ...) and
    the labels of personal data fields."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return (frozenset(STOP_WORDS) - CAN_BE_NAMES) | FIELD_LABELS


def _lowercase(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return bool(letters) and all(c.islower() for c in letters)


def is_cased(text: str, words: Sequence[Word]) -> bool:
    """Whether the text is written with capitals: most of its sentences begin with one. (In text typed all
    in lower case, as many tweets and chats are, a lower-case word may well be a name.) Only first words that
    show a case count: letters without digits (not the "jill83" of an e-mail); a colon or semicolon does not
    end a sentence here ("email: ..."); and when no sentence begins with such a word (the text begins with a
    phone number), the first word that shows a case stands for the text's beginning."""
    starts = [
        word.text
        for i, word in enumerate(words)
        if _shows_case(word.text) and (i == 0 or CASING_SENTENCE_END.search(text[max(0, word.start - 3) : word.start]))
    ]
    if not starts:
        starts = [word.text for word in words if _shows_case(word.text)][:1]
    return bool(starts) and sum(not _lowercase(w) for w in starts) * 2 >= len(starts)


def _shows_case(word: str) -> bool:
    return any(c.isalpha() for c in word) and not any(c.isdigit() for c in word)


def is_relation(word: str) -> bool:
    """A kinship or social-role noun or an honorific (`RELATIONS`), in any case, plural or "-in-law" too."""
    w = word.lower().replace("’", "'")
    parts = w.split("-")
    head = parts[0] if w.endswith("-in-law") or w.endswith("-in-laws") else parts[-1]  # "ex-wife", "sister-in-law"
    return any(form in RELATIONS for form in (w, head, head.removesuffix("s"), head.removesuffix("es")))


def _contraction(word: str, closed: frozenset[str]) -> bool:
    """Two closed-class words written as one ("i've" = "i" + "'ve", "don't" = "do" + "n't")."""
    cuts = [i for i in range(1, len(word)) if word[i] == "'" or word.startswith("n't", i)]
    return any(word[:i] in closed and word[i:] in closed for i in cuts)


def never_names(text: str, words: Sequence[Word]) -> np.ndarray:
    """Per word: never a name, whatever the head says (see the module doc). Lower-case particles in a cased
    text are here too; `PersonNameFinder.is_name` lets them back in between name words."""
    closed = closed_class()
    cased = is_cased(text, words)
    out = []
    for word in words:
        w = word.text.lower().replace("’", "'")
        out.append(
            w in closed
            or _contraction(w, closed)
            or is_relation(w)
            or any(c.isdigit() for c in w)
            or (cased and _lowercase(word.text))
        )
    return np.array(out, dtype=bool)


def with_particles(text: str, words: Sequence[Word], named: np.ndarray) -> np.ndarray:
    """`named` with each run of lower-case `PARTICLES` that stands between two name words (joinable to them)
    named too: "Ludwig van Beethoven", "Dirk van der Berg"."""
    out = named.copy()
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and not named[j] and words[j].text in PARTICLES:
            j += 1
        if j > i and i > 0 and j < len(words) and named[i - 1] and named[j]:
            gaps = [text[words[k - 1].end : words[k].start] for k in range(i, j + 1)]
            if all(_joinable(gap) for gap in gaps):
                out[i:j] = True
        i = j + 1 if j == i else j
    return out


class WordEncoder:
    """Frozen MiniLM: each word's mean sub-word state from the last layer (torch, lazily)."""

    def __init__(self, threads: int | None = None) -> None:
        from valueprint.evaluate.backbone import load_tokenizer_and_model, require

        self.torch = require("torch")
        if threads:
            self.torch.set_num_threads(threads)
        self.tokenizer, model = load_tokenizer_and_model()
        self.model = model.eval()
        self.lock = threading.Lock()

    def states(self, text: str, words: Sequence[Word]) -> np.ndarray:
        """One row of `HIDDEN` floats per word; zeros for a word the encoder did not reach."""
        return self.states_batch([(text, words)])[0]

    def states_batch(self, items: Sequence[tuple[str, Sequence[Word]]], batch_size: int = 32) -> list[np.ndarray]:
        """`states` for many texts, encoded in batches of windows."""
        outs = [np.zeros((len(words), HIDDEN), dtype=np.float32) for _, words in items]
        windows = [
            (item, range(i, min(i + WINDOW_WORDS, len(words))))
            for item, (_, words) in enumerate(items)
            for i in range(0, len(words), WINDOW_WORDS)
        ]
        windows.sort(key=lambda w: items[w[0]][1][w[1][-1]].end - items[w[0]][1][w[1][0]].start)  # less padding
        torch = self.torch
        for at in range(0, len(windows), batch_size):
            part = windows[at : at + batch_size]
            chunks = [items[i][0][items[i][1][w[0]].start : items[i][1][w[-1]].end] for i, w in part]
            with self.lock, torch.inference_mode():
                batch = self.tokenizer(
                    chunks,
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_offsets_mapping=True,
                    return_tensors="pt",
                )
                offsets = batch.pop("offset_mapping").numpy()
                hidden = self.model(**batch).last_hidden_state.float().numpy()
            for row, (item, window) in enumerate(part):
                words = items[item][1]
                base = words[window[0]].start
                spans = offsets[row]
                live = spans[:, 1] > spans[:, 0]  # special and padding tokens have empty spans
                for index in window:
                    lo, hi = words[index].start - base, words[index].end - base
                    mask = live & (spans[:, 0] >= lo) & (spans[:, 1] <= hi)
                    if mask.any():
                        outs[item][index] = hidden[row][mask].mean(axis=0)
        return outs


def features(encoder: WordEncoder, text: str, words: Sequence[Word]) -> np.ndarray:
    """The head's input for each word: encoder state then shape features."""
    return np.hstack([encoder.states(text, words), shape_features(text, words)])


@dataclass(frozen=True)
class Head:
    """A one-hidden-layer MLP (ReLU, sigmoid out) with input standardisation and a threshold."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    threshold: float

    def scores(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        h = np.maximum(z @ self.w1 + self.b1, 0.0)
        logits = (h @ self.w2 + self.b2).reshape(-1)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))

    def save(self, path: Path, metadata: dict[str, str]) -> None:
        from safetensors.numpy import save_file

        tensors = {k: np.ascontiguousarray(getattr(self, k), dtype=np.float32) for k in _TENSORS}
        tensors["threshold"] = np.asarray([self.threshold], dtype=np.float32)
        save_file(tensors, str(path), metadata=metadata)

    @classmethod
    def load(cls, path: Path = ARTEFACT) -> Head:
        try:
            from safetensors.numpy import load_file

            tensors = load_file(str(path))
        except (OSError, ImportError) as error:  # SafetensorError is not an OSError
            raise EvaluatorError(
                f"the person-name head {path} cannot be read ({error}); reinstall valueprint"
            ) from error
        except Exception as error:
            raise EvaluatorError(
                f"the person-name head {path} is corrupt ({error}); re-create it with "
                "python -m valueprint.annotate.pii.train_names"
            ) from error
        return cls(**{k: tensors[k] for k in _TENSORS}, threshold=float(tensors["threshold"][0]))


_TENSORS = ("mean", "scale", "w1", "b1", "w2", "b2")


@dataclass(frozen=True, slots=True)
class NameSpan:
    start: int
    end: int
    score: float


class PersonNameFinder:
    """Finds the spans of person names in a text (loads MiniLM on first use)."""

    def __init__(self, head: Head | None = None, encoder: WordEncoder | None = None) -> None:
        self.head = head or Head.load()
        self._encoder = encoder
        self._lock = threading.Lock()

    @property
    def encoder(self) -> WordEncoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = WordEncoder()
            return self._encoder

    def word_scores(self, text: str) -> tuple[list[Word], np.ndarray]:
        """The head's score of each word (0 for words that cannot be names by their shape)."""
        words = words_of(text)
        if not words:
            return words, np.zeros(0, dtype=np.float32)
        scores = self.head.scores(features(self.encoder, text, words))
        scores[[len(w.text) > LONGEST_NAME_WORD or not any(c.isalpha() for c in w.text) for w in words]] = 0.0
        return words, scores

    def find(self, text: str) -> list[NameSpan]:
        """Name spans: runs of name words (`is_name`), joined across spaces, hyphens, apostrophes and
        initials' periods (never across other punctuation)."""
        words, scores = self.word_scores(text)
        return spans_of(text, words, scores, self.is_name(text, words, scores))

    def is_name(self, text: str, words: Sequence[Word], scores: np.ndarray) -> np.ndarray:
        """Per word: the head's score clears the threshold and the rules (`never_names`) allow it, or it is a
        particle between name words (`with_particles`)."""
        named = (scores >= self.head.threshold) & ~never_names(text, words)
        return with_particles(text, words, named)


def spans_of(text: str, words: Sequence[Word], scores: np.ndarray, named: np.ndarray) -> list[NameSpan]:
    """Consecutive name words joined into spans (see `PersonNameFinder.find`)."""
    spans: list[NameSpan] = []
    run: list[int] = []

    def close() -> None:
        if run:
            first, last = words[run[0]], words[run[-1]]
            spans.append(NameSpan(first.start, last.end, float(scores[run].max())))
            run.clear()

    for i, word in enumerate(words):
        if not named[i]:
            close()
            continue
        if run and not _joinable(text[words[run[-1]].end : word.start]):
            close()
        run.append(i)
    close()
    return spans


def _joinable(gap: str) -> bool:
    return len(gap) <= 3 and gap.strip(" .-'’") == "" and "\n" not in gap


@cache
def default_finder() -> PersonNameFinder:
    return PersonNameFinder()
