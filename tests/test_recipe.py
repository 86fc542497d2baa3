"""The final recipes: seeded runs in quick mode and the per-seed / mean / ensemble table."""

import numpy as np
import pytest

from medimgkit.experiments import recipe
from medimgkit.metrics import binary_report, roc_auc
from medimgkit.metrics.calibration import youden_threshold


@pytest.fixture(scope="module")
def runs(breast):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIMGKIT_QUICK", "1")
        return [recipe.run("breastmnist", 28, seed, splits=breast) for seed in (0, 1)]


def test_run_scores_validation_and_test_and_picks_the_threshold_on_validation(runs, breast):
    run = runs[0]
    assert run.recipe.positive == 0 and run.recipe.key == "breastmnist:28"
    assert run.val_probs.shape == (len(breast["val"][0]), 2)
    assert run.test_probs.shape == (len(breast["test"][0]), 2)
    assert len(run.history.history["loss"]) == 3  # quick mode: 3 epochs
    assert run.threshold == youden_threshold(breast["val"][1], run.val_probs, positive=0)
    assert run.minutes > 0


def test_summary_has_each_seed_their_mean_and_the_ensemble(runs, breast):
    rows = recipe.summary(runs, splits=breast)
    assert [r["row"] for r in rows] == ["seed 0", "seed 1", "mean of 2 seeds (2 networks each)",
                                        "ensemble of 2 seeds (2 networks each)"]
    y_test = breast["test"][1]
    assert np.isclose(rows[0]["test AUC"], roc_auc(y_test, runs[0].test_probs, positive=0))
    at_t = binary_report(y_test, runs[1].test_probs, positive=0, threshold=runs[1].threshold, n_boot=0)
    assert np.isclose(rows[1]["test ACC"], at_t["accuracy"])
    assert np.isclose(rows[2]["test AUC"], (rows[0]["test AUC"] + rows[1]["test AUC"]) / 2)
    ensemble = np.mean([r.test_probs for r in runs], axis=0)
    assert np.isclose(rows[3]["test AUC"], roc_auc(y_test, ensemble, positive=0))
    assert rows[3]["minutes"] is None


def test_bad_recipe_requests_name_the_value():
    with pytest.raises(ValueError, match="'retinamnist:28'.*available"):
        recipe.get("retinamnist", 28)
    with pytest.raises(ValueError, match="runs is empty"):
        recipe.summary([])


def test_a_run_averages_its_members_and_member_0_is_the_single_network_run(runs, breast, monkeypatch):
    """Also the seeded-repeat check: a fresh one-member run reproduces member 0 of the earlier run exactly."""
    import dataclasses

    from medimgkit.train import predict_proba

    run = runs[0]
    assert recipe.RECIPES["breastmnist:28"].members == 3
    assert len(run.members) == 2 and run.model is run.members[0]  # quick mode trains at most 2
    x_test = breast["test"][0]
    probs = [predict_proba(m, x_test, tta=True) for m in run.members]
    assert not np.allclose(probs[0], probs[1])  # member 1 has seed 0 + 1000
    assert np.allclose(run.test_probs, (probs[0] + probs[1]) / 2)
    assert recipe.member_seed(2, 1) == 1002

    monkeypatch.setenv("MEDIMGKIT_QUICK", "1")
    one = dataclasses.replace(recipe.RECIPES["breastmnist:28"], members=1)
    monkeypatch.setitem(recipe.RECIPES, "breastmnist:28", one)
    single = recipe.run("breastmnist", 28, 0, splits=breast)
    assert len(single.members) == 1
    assert np.array_equal(single.test_probs, probs[0])  # member 0 has the run's own seed; a seeded run repeats exactly
    assert [r["row"] for r in recipe.summary([single], splits=breast)] == ["seed 0", "mean of 1 seed", "ensemble of 1 seed"]
    with pytest.raises(ValueError, match="members must be a positive int, got 0"):
        dataclasses.replace(one, members=0)
