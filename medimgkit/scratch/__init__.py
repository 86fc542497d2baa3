"""Written by hand to teach one idea each. In coursework, use Keras or scikit-learn instead.

These modules spell out in NumPy (or in a few Keras layers) what a library
does in one call, so a chapter can show the mechanism and then check it
against the library. They are tested against Keras, SciPy and scikit-learn,
but they are slow, limited to what the chapter needs, and not a toolkit.

Modules
-------
``mapping``    a network as a composition of maps: MLPs and their explicit forward pass (chapter 01)
``conv``       convolution arithmetic: a reference ``conv2d``, pooling, sizes, receptive fields (chapter 02)
``filters``    hand-crafted filters (Sobel, Laplacian, Gabor) and filter-bank features (chapters 02-03)
``linear``     L2-regularised logistic regression by Newton's method (chapter 03)
``selection``  why tuning on the test split lies: a model-selection simulation (chapter 04)
``descent``    gradient descent on a two-parameter loss you can draw (chapter 04b)
"""

