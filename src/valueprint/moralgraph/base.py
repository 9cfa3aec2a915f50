"""What every part of the moral graph's service runs on: the database, the settings, the aggregation's
parameters, the embedder and the upstream model.

Embedding (deduplication, policy suggestions, a chat prompt's context) runs outside the database's unit
of work, so a slow encoder never holds the SQLite writer; `embedder` may be installed (tests, another
encoder), else the evaluator's MiniLM is loaded on first use. The upstream model (interview chat, drafts)
comes from the settings, or `upstream` when installed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from valueprint.errors import BadRequestError
from valueprint.moralgraph import interview
from valueprint.moralgraph.aggregate import Parameters
from valueprint.moralgraph.dedup import CachedEmbedder, Embed, evaluator_embedder
from valueprint.settings import Settings
from valueprint.store.db import Database


class GraphBase:
    """The shared machinery of `service.MoralGraph`'s parts."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.embedder: Embed | None = None  # None: the evaluator's MiniLM, loaded on first use
        self.upstream: interview.Upstream | None = None  # None: VALUEPRINT_UPSTREAM_URL, if set
        self._cached: tuple[Embed, CachedEmbedder] | None = None

    @property
    def parameters(self) -> Parameters:
        s = self.settings
        return Parameters(min_votes=s.moralgraph_min_votes, max_entropy=s.moralgraph_max_entropy)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """MiniLM vectors of `texts` (remembered: canonical cards are compared again and again)."""
        if self.embedder is None:
            from valueprint.evaluate.evaluator import shared_evaluator

            self.embedder = evaluator_embedder(shared_evaluator(self.settings))
        if self._cached is None or self._cached[0] is not self.embedder:
            self._cached = (self.embedder, CachedEmbedder(self.embedder))
        return self._cached[1](list(texts))

    @property
    def has_upstream(self) -> bool:
        return self.upstream is not None or bool(self.settings.upstream_url)

    def upstream_model(self) -> interview.Upstream:
        if self.upstream is None:
            if not self.settings.upstream_url:
                raise BadRequestError(
                    "no upstream model is configured here (VALUEPRINT_UPSTREAM_URL): answer the guided questions "
                    "and write the card (or the story) yourself"
                )
            from valueprint.evaluate.endpoint import ChatEndpoint

            key = self.settings.upstream_api_key
            self.upstream = ChatEndpoint(
                self.settings.upstream_url,
                self.settings.upstream_model or "upstream",
                api_key=key.get_secret_value() if key else None,
            )
        return self.upstream
