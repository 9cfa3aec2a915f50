"""The moral graph: what wisdom looks like in context, as people judge it.

People write values cards for a context ("when someone is grieving": a title, a line and the 3-7 things
they attend to, in their own words), near-duplicate cards merge into canonical cards, and people judge
transitions between two cards ("did this person become wiser?"). The votes aggregate into a graph per
context whose most-endorsed value a model may consult (after Klingefjord, Lowe and Edelman, 2024;
reimplemented here from the method's description).

`service.MoralGraph` is the domain's face (built on `base`, with `cardbook` for cards and their merges,
`voting` for transitions, stories and votes, and `consult` for the chat); behind it: `cards` (the rules
a card obeys), `aggregate` (the formula: edge likelihood, minimum votes, the entropy cut, PageRank, the
winner), `graphs` (graphs and the export from the stored votes), `dedup` (canonical cards by embedding
similarity), `pairs` (which transition to show next), `contexts` (curated and DailyDilemmas contexts),
`interview` (the guided interview and the upstream model's drafts), `wisdom` (a person's cards as précis
sentences), `schemas` and `data` (the person's data duty).
"""

from valueprint.moralgraph import data  # noqa: F401  (registers the domain's data duties)
