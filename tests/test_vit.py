"""The small Vision Transformer: shapes, parameter count by hand, attention weights and rollout."""

import numpy as np
import pytest

from medimgkit import models
from medimgkit.models.transformer import attention_rollout, attention_scores


def test_vit_output_and_layers():
    model = models.vit((28, 28, 1), patch_size=4, dim=16, depth=2, heads=2, mlp_dim=32, augment=False)
    x = np.random.default_rng(0).integers(0, 255, (3, 28, 28, 1), dtype=np.uint8) / 255.0
    p = model.predict(x, verbose=0)
    assert p.shape == (3, 2) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert model.get_layer("patch_embedding").output.shape[1:] == (7, 7, 16)
    assert model.get_layer("position_embedding").output.shape[1:] == (49, 16)


def test_vit_parameters_by_hand():
    # 28 px, patch 4 -> 49 tokens of dim 8; one block with 2 heads of size 4; MLP 16; 2 classes.
    dim, tokens, mlp = 8, 49, 16
    patch = 4 * 4 * 1 * dim + dim                  # the strided convolution
    position = tokens * dim
    attention = 3 * (dim * dim + dim) + (dim * dim + dim)   # query, key, value (2 heads x 4) and output projections
    norms = 2 * (2 * dim) + 2 * dim                # two per block and one at the end
    block_mlp = (dim * mlp + mlp) + (mlp * dim + dim)
    head = dim * 2 + 2
    model = models.vit((28, 28, 1), patch_size=4, dim=dim, depth=1, heads=2, mlp_dim=mlp, augment=False)
    assert model.count_params() == patch + position + attention + norms + block_mlp + head


def test_attention_weights_are_distributions_and_rollout_is_a_map():
    model = models.vit((28, 28, 1), patch_size=7, dim=16, depth=3, heads=4, mlp_dim=32)
    x = np.random.default_rng(1).integers(0, 255, (2, 28, 28), dtype=np.uint8)
    scores = attention_scores(model, x)
    assert len(scores) == 3 and scores[0].shape == (2, 4, 16, 16)
    np.testing.assert_allclose(scores[1].sum(axis=-1), 1, atol=1e-5)
    maps = attention_rollout(model, x)
    assert maps.shape == (2, 28, 28) and maps.min() == 0 and maps.max() == 1
    assert np.all(maps[:, :7, :7] == maps[:, :1, :1])  # one value per 7 x 7 patch


def test_rollout_by_hand(monkeypatch):
    """Uniform attention gives a flat map; attention that always goes to patch 0 singles it out."""
    import medimgkit.models.transformer as vit_module

    model = models.vit((8, 8, 1), patch_size=4, dim=8, depth=2, heads=2, mlp_dim=8, augment=False)
    x = np.zeros((1, 8, 8), np.uint8)
    monkeypatch.setattr(vit_module, "attention_scores", lambda m, images: [np.full((1, 2, 4, 4), 0.25)] * 2)
    assert np.all(attention_rollout(model, x) == 0)  # flat: no range to scale, all zero
    to_first = np.zeros((1, 2, 4, 4))
    to_first[..., 0] = 1.0
    monkeypatch.setattr(vit_module, "attention_scores", lambda m, images: [to_first] * 2)
    maps = attention_rollout(model, x)
    assert np.all(maps[0, :4, :4] == 1) and np.all(maps[0, 4:, :] == 0) and np.all(maps[0, :, 4:] == 0)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="divisible by patch_size=5"):
        models.vit((28, 28, 1), patch_size=5)
    with pytest.raises(ValueError, match="dim=30 must be divisible by heads=4"):
        models.vit(dim=30, heads=4)
    with pytest.raises(ValueError, match="no MultiHeadAttention"):
        attention_scores(models.improved_cnn((28, 28, 1), width=4, blocks=1), np.zeros((1, 28, 28), np.uint8))
