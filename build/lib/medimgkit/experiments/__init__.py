"""One chapter's experiment each: code that reproduces what the book reports, not an API.

A course may read and rerun these, but should not build on them: their
settings are the book's, tuned for its data and its machines.

Modules
-------
``recipe``     the case study's final recipes: seeded runs, means and ensembles against published results
``federated``  federated averaging simulated on one machine (chapter 11; no privacy guarantees)
"""

