"""Who a participant is to valueprint: the roles an account can hold.

Stored as their string value in `participants.role`. Curators, annotators and reviewers are
ready for the annotation and moral-graph domains; pages and endpoints ask for a role with
`valueprint.web.deps.require_role`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PARTICIPANT = "participant"  # answers the questionnaire; the only role counted in the statistics
    ADMIN = "admin"  # the dashboard, registering apps
    CURATOR = "curator"  # imports and curates material to annotate
    ANNOTATOR = "annotator"  # labels behaviour in text with values
    REVIEWER = "reviewer"  # reviews annotations

    @property
    def plural(self) -> str:
        """As named in messages: "this page is for administrators"."""
        return "administrators" if self is Role.ADMIN else f"{self.value}s"
