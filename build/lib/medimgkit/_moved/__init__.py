"""Deprecated import paths of medimgkit 0.1, kept for one release (removed in 0.3).

``medimgkit/__init__.py`` adds this folder to the package's ``__path__``, so
``import medimgkit.conv`` still works: it warns (``DeprecationWarning``) and
gives the module at its new place. The map, old -> new:

    medimgkit.mapping      -> medimgkit.scratch.mapping
    medimgkit.descent      -> medimgkit.scratch.descent
    medimgkit.conv         -> medimgkit.scratch.conv
    medimgkit.filters      -> medimgkit.scratch.filters
    medimgkit.linear       -> medimgkit.scratch.linear
    medimgkit.selection    -> medimgkit.scratch.selection
    medimgkit.shift        -> medimgkit.transforms
    medimgkit.imbalance    -> medimgkit.data.resampling
    medimgkit.saliency     -> medimgkit.explain.saliency
    medimgkit.sanity       -> medimgkit.explain.sanity
    medimgkit.calibration  -> medimgkit.metrics.calibration
    medimgkit.compare      -> medimgkit.metrics.compare
    medimgkit.transfer     -> medimgkit.models.transfer
    medimgkit.ordinal      -> medimgkit.models.ordinal
    medimgkit.recipe       -> medimgkit.experiments.recipe
    medimgkit.federated    -> medimgkit.experiments.federated
"""

MOVED = {
    "medimgkit.mapping": "medimgkit.scratch.mapping",
    "medimgkit.descent": "medimgkit.scratch.descent",
    "medimgkit.conv": "medimgkit.scratch.conv",
    "medimgkit.filters": "medimgkit.scratch.filters",
    "medimgkit.linear": "medimgkit.scratch.linear",
    "medimgkit.selection": "medimgkit.scratch.selection",
    "medimgkit.shift": "medimgkit.transforms",
    "medimgkit.imbalance": "medimgkit.data.resampling",
    "medimgkit.saliency": "medimgkit.explain.saliency",
    "medimgkit.sanity": "medimgkit.explain.sanity",
    "medimgkit.calibration": "medimgkit.metrics.calibration",
    "medimgkit.compare": "medimgkit.metrics.compare",
    "medimgkit.transfer": "medimgkit.models.transfer",
    "medimgkit.ordinal": "medimgkit.models.ordinal",
    "medimgkit.recipe": "medimgkit.experiments.recipe",
    "medimgkit.federated": "medimgkit.experiments.federated",
}
