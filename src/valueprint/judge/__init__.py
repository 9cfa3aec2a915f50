"""The personal judge: which of several replies fits one person best, and why.

    profile + prompt + replies ─► value reader (what values each reply shows)
                                 style reader (how each reply is written)
                                 quality (fluent, complete, answers rather than recites)
                               ─► Ranking(order, scores, because)

`service.shared_judge(settings)` is the product judge (reader `a`); `service.referee(settings)`
is the independent one the benchmarks measure with (reader `b`, trained on disjoint data with
other anchors). `pairs` holds the hand-written persona-fit pairs it is measured on.
"""
