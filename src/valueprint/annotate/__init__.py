"""Annotation: curators import text into projects, it is segmented into behaviour units and sanitised,
and annotators label each unit with the values it shows and how acceptable it is.

`service.Annotate` is the domain's face (the CLI, the API and `valueprint.services` call it); the
modules behind it: `schema` (projects' label schemas), `readers` (import formats), `segment`,
`units` (the sanitiser hook), `dedup`, `importer`, `queue` (next-unit selection and reservations),
`labels` (annotations, skips, undo, flags), `export`, and `data` (the annotator's data duties).
"""
