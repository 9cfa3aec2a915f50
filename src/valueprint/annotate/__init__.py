"""Annotation: from raw text to labelled, exportable value data (issue 15)."""
