"""The spread behind a chapter's asserted numbers: run the chapter with other seeds and set floors from it.

A number a chapter asserts (``assert auc > AUC_FLOOR``) is a claim about a
distribution: another seed, or another processor's float rounding, lands the
run elsewhere. This script executes a chapter several times, each with its
``SEED = ...`` line set to another seed (different seeds from the chapter's
own), reads each asserted quantity from the kernel after the last cell, and
prints, per quantity: the value for every seed, the minimum and maximum, the
floor that the spread supports (the minimum minus a stated margin, rounded
down to 0.01; for a ceiling, the maximum plus the margin, rounded up) and
whether the chapter's own floor is at or below it (``ok``) or above it
(``TOO HIGH``: the assertion can fail on a seed or processor that is not the
author's). The rows are written to ``benchmarks/results/floors_<chapter>.json``.

    python benchmarks/floors.py 06                         # full mode, seeds 101..105
    python benchmarks/floors.py 06 --quick --seeds 201 202 203 204 205
    python benchmarks/floors.py --list                     # the chapters and quantities it knows

A chapter's run with a failing assertion still counts: the failing cell and
the cells after it do not run, the quantities are read as they stand, and the
run is marked ``failed`` in the table (that is the point: an assertion that
fails on another seed is one this script must show). Quantities a mode does
not assert are skipped in that mode. Full mode takes each chapter's full-mode
time per seed (a few minutes on 2 cores; ``book/intro.md`` lists them).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


@dataclass(frozen=True)
class Quantity:
    """One asserted number: how to read it in the kernel, the chapter's bound, and which side it bounds."""

    name: str
    expression: str  # evaluated in the chapter's kernel after its last cell
    bound: str  # the chapter's own floor or ceiling (a number, or a name the chapter defines)
    kind: str = "floor"  # "floor": value > bound; "ceiling": value < bound
    modes: tuple[str, ...] = ("full", "quick")  # where the chapter asserts it
    margin: float | None = None  # None: --margin; set for quantities far smaller than it (e.g. 1e-4)
    step: float = 0.01  # the supported bound is rounded (down for a floor, up for a ceiling) to this


# The chapters whose asserted numbers depend on training, and what they assert (kept next to
# the cells that assert them: when a chapter's assertion changes, change its line here).
CHAPTERS: dict[str, tuple[str, list[Quantity]]] = {
    "06": ("06_case_study_breast_ultrasound", [
        Quantity("improved CNN test AUC", 'improved_report["auc"]', "AUC_FLOOR"),
        Quantity("improved CNN sensitivity", 'improved_report["sensitivity"]', "0.6", modes=("full",)),
        Quantity("improved CNN specificity", 'improved_report["specificity"]', "0.6", modes=("full",)),
        Quantity("improved minus article CNN, test AUC", 'improved_report["auc"] - reports["article CNN"]["auc"]',
                 "-0.02", modes=("full",)),
        Quantity("test AUC 95 % CI width", "auc_ci_width", "0.03"),
        Quantity("test AUC 95 % CI width (ceiling)", "auc_ci_width", "0.3", kind="ceiling"),
        Quantity("exercise 1: mean p(malignant), class weights minus none",
                 "p_improved[:, MALIGNANT].mean() - p_unweighted[:, MALIGNANT].mean()", "0", modes=("full",)),
    ]),
    "01": ("01_everything_is_a_mapping", [
        Quantity("trained MSE, widest over narrowest net (ceiling)", "trained[-1] / trained[0]", "0.1", kind="ceiling",
                 margin=0.0, step=0.001),
        Quantity("trained MSE gain from width 8 to 64 over the best possible gain (ceiling)",
                 "(trained[3] / trained[-1]) / (best_possible[3] / best_possible[-1])", "0.01", kind="ceiling",
                 margin=0.0, step=1e-4),
        Quantity("widest net: trained MSE over the best possible", "trained[-1] / best_possible[-1]", "10",
                 margin=0.0, step=1.0),
        Quantity("two hidden layers over one, trained MSE (ceiling)", "deep[1] / deep[0]", "medimgkit.quick(full=0.5, quick=0.9)",
                 kind="ceiling"),
        Quantity("squaring net's MSE minus the best parabola's", "mse_square - mse_quadratic", "-1e-4", margin=0.0,
                 step=1e-5),
        Quantity("widest net's MSE over the best parabola's (ceiling)", "trained[-1] / mse_quadratic", "0.2",
                 kind="ceiling", margin=0.0),
        Quantity("width-8 net's MSE over least squares' (ceiling)", "trained[3] / mse_line", "0.1", kind="ceiling",
                 margin=0.0),
    ]),
    "02b": ("02b_building_blocks", [
        Quantity("PPV at 1 % prevalence minus the test set's PPV (ceiling)", 'ppv(sens, spec, 0.01) - report["ppv"]', "0",
                 kind="ceiling"),
        Quantity("paired minus unpaired 95 % CI width of an AUC difference (ceiling)",
                 'width["paired"] - width["unpaired"]', "0", kind="ceiling"),
    ]),
    "05": ("05_medical_images_as_data", [
        Quantity("split per patient: test AUC", 'honest["auc"]', "0.6"),
        Quantity("leak: per-image minus per-patient test AUC", "gap", "medimgkit.quick(full=0.07, quick=0.02)"),
        Quantity("leaky lower CI bound minus the honest AUC", 'leaky["ci"]["auc"][0] - honest["auc"]', "0"),
        Quantity("|one view per patient: per-image minus per-patient AUC| (ceiling)", "abs(auc_image - auc_patient)",
                 "0.1", kind="ceiling"),
        Quantity("leaky AUC minus the best patient-fold AUC", 'reports["split per image (leaky)"]["auc"] - max(aucs)',
                 "0"),
    ]),
    "03": ("03_feature_extraction", [
        Quantity("every conv layer's relative weight change (smallest)", "min(change.values())", "0.02"),
        Quantity("other layers' mean change minus block1_conv1's (asserted)",
                 'np.mean([v for k, v in change.items() if k != "block1_conv1"]) - change["block1_conv1"]', "0"),
        Quantity("next-smallest layer change minus block1_conv1's (first layer moves least; printed)",
                 'min(v for k, v in change.items() if k != "block1_conv1") - change["block1_conv1"]', "0",
                 margin=0.0),
        Quantity("CNN test AUC", "auc_cnn", "0.8"),
        Quantity("hand-crafted features test AUC", "auc_hand", "0.8"),
        Quantity("|CNN minus hand-crafted| test AUC (ceiling)", 'abs(gap["diff"])', "0.1", kind="ceiling"),
        Quantity("exercise 1: linear probe on CNN features, validation AUC", "max(probe_scores.values())", "0.75"),
        Quantity("exercise 4: hand-crafted features at 64 px, validation AUC", "max(val_auc_64.values())", "0.75"),
    ]),
    "04": ("04_how_networks_learn", [
        Quantity("pipeline CNN test AUC", 'test_report["auc"]', "0.65"),
        # Means over 500 simulated selections: their seed-to-seed spread is about 0.01, so a 0.01 margin.
        Quantity("tuning on test: mean optimism", "cheat.mean()", "0.02", margin=0.01),
        Quantity("tuning on test minus on validation: mean optimism", "cheat.mean() - honest.mean()", "0.015",
                 margin=0.01),
        Quantity("|selecting on validation: mean optimism| (ceiling)", "abs(honest.mean())", "0.03", kind="ceiling",
                 margin=0.01),
        Quantity("exercise: augmentation on at prediction, largest spread of one image's probability", "spread.max()",
                 "0.01"),
        Quantity("exercise: optimism, 100 thresholds minus 1", "optimism[100] - optimism[1]", "0"),
    ]),
    "04b": ("04b_loss_and_gradient_descent", [
        Quantity("softmax fed to binary_crossentropy: relative error of the reported loss",
                 "abs(reported - bce_of_probs) / bce_of_probs", "0.02"),
        Quantity("final training loss, lr 1e-4 minus lr 1e-3", "final_loss[(1e-4, 32)] - final_loss[(1e-3, 32)]", "0"),
        Quantity("final training loss, lr 1e-1 minus lr 1e-3", "final_loss[(1e-1, 32)] - final_loss[(1e-3, 32)]", "0"),
        Quantity("final training loss, batch 128 minus batch 8", "final_loss[(1e-3, 128)] - final_loss[(1e-3, 8)]", "0"),
        Quantity("|final training loss at lr 1e-1 minus log 2| (ceiling)", "abs(final_loss[(1e-1, 32)] - np.log(2))",
                 "0.05", kind="ceiling"),
        Quantity("AUC, lr 1e-3 minus lr 1e-1", "final_auc[(1e-3, 32)] - final_auc[(1e-1, 32)]", "0"),
    ]),
    "07": ("07_beyond_breast_ultrasound", [
        Quantity("pneumonia CNN test AUC", 'pneu_report["auc"]', "AUC_FLOOR"),
        Quantity("pneumonia test AUC 95 % CI width", 'pneu_report["ci"]["auc"][1] - pneu_report["ci"]["auc"][0]', "0.01",
                 margin=0.01),  # an interval width of a few hundredths: a 0.01 margin
        Quantity("pneumonia test sensitivity", 'pneu_report["sensitivity"]', "0.75", modes=("full",)),
        Quantity("pneumonia test AUC, upper CI bound (published 0.944 - 0.05)", 'pneu_report["ci"]["auc"][1]',
                 "0.894", modes=("full",)),
        Quantity("retina: smallest kappa of the two CNNs", 'min(r["kappa"] for r in retina_reports.values())', "0"),
        Quantity("retina: smallest macro AUC of the two CNNs", 'min(r["macro_auc"] for r in retina_reports.values())',
                 "0.5"),
        Quantity("retina: cumulative-link CNN kappa", 'retina_reports["cumulative-link CNN"]["kappa"]', "KAPPA_FLOOR"),
        Quantity("retina: cumulative-link CNN macro AUC", 'retina_reports["cumulative-link CNN"]["macro_auc"]',
                 "MACRO_AUC_FLOOR"),
        Quantity("retina: cumulative-link CNN, share within one grade", 'within_one["cumulative-link CNN"]',
                 "WITHIN_ONE_FLOOR"),
        Quantity("retina: smallest lower CI bound of kappa", 'min(r["ci"]["kappa"][0] for r in retina_reports.values())',
                 "0", modes=("full",)),
        Quantity("retina: cumulative-link CNN, MedMNIST AUC", 'comparison["cumulative-link CNN"][0]', "0.6",
                 modes=("full",)),
    ]),
    "09": ("09_interpretability", [
        Quantity("CNN test AUC", 'report["auc"]', "AUC_FLOOR"),
        Quantity("largest agreement between two methods (ceiling)", "off_diagonal.max()",
                 "medimgkit.quick(full=0.9, quick=0.95)", kind="ceiling"),
        Quantity("Grad-CAM Spearman, all layers randomised (ceiling)", 'result["spearman"]["Grad-CAM"][-1]', "THRESHOLD",
                 kind="ceiling", modes=("full",)),
        Quantity("Gradient Spearman, all layers randomised (ceiling)", 'result["spearman"]["Gradient"][-1]', "THRESHOLD",
                 kind="ceiling"),
        Quantity("SmoothGrad Spearman, all layers randomised (ceiling)", 'result["spearman"]["SmoothGrad"][-1]',
                 "THRESHOLD", kind="ceiling"),
        Quantity("Grad-CAM++ Spearman, all layers randomised (ceiling)", 'result["spearman"]["Grad-CAM++"][-1]',
                 "THRESHOLD", kind="ceiling", modes=("full",)),
        Quantity("SmoothGrad of magnitudes minus SmoothGrad, Spearman, all layers randomised",
                 'result["spearman"]["SmoothGrad of magnitudes"][-1] - result["spearman"]["SmoothGrad"][-1]', "0.3"),
        Quantity("Grad-CAM SSIM, all layers randomised (ceiling)", 'result["ssim"]["Grad-CAM"][-1]', "0.5",
                 kind="ceiling"),
        Quantity("Grad-CAM Spearman, output layer randomised (ceiling)", 'result["spearman"]["Grad-CAM"][1]',
                 "THRESHOLD", kind="ceiling"),
        Quantity("Grad-CAM++ minus Grad-CAM Spearman, output layer randomised",
                 'result["spearman"]["Grad-CAM++"][1] - result["spearman"]["Grad-CAM"][1]', "0"),
        Quantity("image independence, SmoothGrad of magnitudes minus SmoothGrad",
                 'independence["SmoothGrad of magnitudes"] - independence["SmoothGrad"]', "0.1"),
        Quantity("AUC of map focus for a correct prediction (ceiling)", "focus_auc", "0.75", kind="ceiling"),
        Quantity("most focused wrong map minus the correct maps' median focus", "focus[case] - np.median(focus[~is_wrong])",
                 "0"),
        Quantity("Grad-CAM Spearman, only block1_conv1 randomised (ceiling)", 'single["spearman"]["Grad-CAM"][-1]',
                 "0.99", kind="ceiling"),
        Quantity("exercise: CNN minus shuffled-label CNN, test AUC", 'report["auc"] - auc_random', "0"),
    ]),
    "10": ("10_deployment", [
        Quantity("CNN test AUC", 'report["auc"]', "0.7"),
        Quantity("bare call minus predict, largest difference", "np.abs(bare_1 - before).max()", "1e-3",
                 margin=0.0, step=1e-4),
        Quantity("predict before minus after the bare calls, largest difference", "np.abs(after - before).max()", "1e-4",
                 margin=0.0, step=1e-5),
        Quantity("|TFLite int8 minus Keras test AUC| (ceiling)", 'abs(auc["TFLite int8"] - auc["Keras (.keras, eager)"])',
                 "0.02", kind="ceiling", margin=0.01),  # quantisation moves the AUC by thousandths: a 0.01 margin
        Quantity("TFLite float32 largest difference from Keras (ceiling)", 'results["TFLite float32"]["max_diff"]', "1e-4",
                 kind="ceiling", margin=0.0, step=1e-6),
    ]),
    "06c": ("06c_thresholds_and_calibration", [
        Quantity("sensitivity at 0.5, class weights minus nothing", 'sens["class weights"] - sens["nothing"]', "0"),
        Quantity("spread of the three test AUCs (ceiling)", "max(aucs.values()) - min(aucs.values())", "0.1",
                 kind="ceiling"),
        Quantity("smallest of the three test AUCs", "min(aucs.values())", "0.75"),
        Quantity("smallest test sensitivity at the validation-chosen threshold", "min(test_sens)", "0.7"),
        Quantity("smallest chosen-threshold sensitivity minus the plain model's at 0.5",
                 'min(r["sensitivity"] for r in chosen.values()) - at_half["nothing"]["sensitivity"]', "0"),
        Quantity("ECE, class weights minus nothing (ceiling)", 'ece["class weights"] - ece["nothing"]', "0.03",
                 kind="ceiling"),
        Quantity("batch statistics only: shift of mean p(malignant)", 'shifted["batch statistics only"] - in_large', "0"),
        Quantity("shift, batch statistics only minus dropout only",
                 'shifted["batch statistics only"] - shifted["dropout only"]', "0"),
        Quantity("Platt scaling: test ECE after minus before (ceiling)", "ece_platt - ece[worst]", "0",
                 kind="ceiling", margin=0.0),  # the smallest improvement measured was 0.027, under the usual margin
    ]),
    "06b": ("06b_beating_the_benchmark", [
        Quantity("recipe, mean of the seeds' test AUC", "mean_auc", "FINAL_FLOOR"),
        Quantity("AUC 95 % CI width, cross-validation minus the validation split (ceiling)",
                 'ci_width["cross-validation"] - ci_width["validation split"]', "0", kind="ceiling"),
        Quantity("threshold 95 % band width, out-of-fold minus validation (ceiling)",
                 'widths[f"out-of-fold ({len(cv.labels)} images)"] - widths["validation split (78 images)"]', "0",
                 kind="ceiling", modes=("full",)),
    ]),
    "13": ("13_challenges", [
        Quantity("CNN test AUC", 'baseline["auc"]', "0.75"),
        Quantity("worst shifted test AUC minus the original (ceiling)", 'worst_auc - baseline["auc"]', "-0.02",
                 kind="ceiling"),
        Quantity("range of test sensitivity over the shifts", "sens_range", "0.15"),
    ]),
    "07c": ("07c_vision_transformer", [
        Quantity("CNN minus ViT test AUC, lower CI bound", 'diff["ci"][0]', "0", modes=("full",)),
    ]),
    "07d": ("07d_volumes", [
        Quantity("3-D CNN test AUC", 'reports["3-D (whole volume)"]["auc"]', "AUC_FLOOR"),
        Quantity("3-D CNN minus gland size, test AUC, lower CI bound",
                 'diffs[("3-D (whole volume)", "gland size")]["ci"][0]', "0", modes=("full",)),
        Quantity("3-D minus 2-D (middle slice) CNN, test AUC, lower CI bound",
                 'diffs[("3-D (whole volume)", "2-D (middle slice)")]["ci"][0]', "0", modes=("full",)),
    ]),
    "08": ("08_overfitting_small_data", [
        Quantity("augmentation minus none, final training loss", 'final_loss["augmentation"] - final_loss["none"]', "0"),
        Quantity("smallest gap among the others minus augmentation's gap",
                 'min(v for k, v in final_gap.items() if k != "augmentation") - final_gap["augmentation"]', "0",
                 modes=("full",)),
        Quantity("none: final validation loss minus twice the training loss",
                 'none_h["val_loss"][-1] - 2 * none_h["loss"][-1]', "0", modes=("full",)),
        Quantity("narrowest test AUC 95 % CI width", "min(widths.values())", "0.04"),
        Quantity("largest upper CI bound, regulariser minus none (ceiling)",
                 'max(metrics.auc_difference(y_test, test_probs[n][:, MALIGNANT], test_probs["none"][:, MALIGNANT], '
                 'positive=MALIGNANT, seed=SEED)["ci"][1] for n in ("L2", "dropout", "augmentation"))',
                 "MARGIN", kind="ceiling", modes=("full",)),
        Quantity("validation minus training loss gap, 10 % minus 100 %", "gap[0.1] - gap[1.0]", "0"),
        Quantity("final training loss, 100 % minus 10 %",
                 'fraction_runs[1.0][1].history["loss"][-1] - fraction_runs[0.1][1].history["loss"][-1]', "0"),
        Quantity("exercise 3: mean CI width of ten stratified halves minus the full test set's",
                 "half_width - full_width", "0"),
    ]),
    "08b": ("08b_transfer_learning", [
        Quantity("source task validation AUC (pneumonia)", "source_auc", "0.8"),
        Quantity("chest X-ray features, frozen, test AUC (10 %)",
                 'metrics.roc_auc(y_test, transfer_probs[0.1]["frozen"], positive=MALIGNANT)', "0.6", modes=("full",)),
        Quantity("chest X-ray features, frozen, minus from scratch (10 %, test AUC; ceiling)",
                 'transfer_diffs[0.1, "frozen"]["diff"]', "0", kind="ceiling", modes=("full",)),
        Quantity("|fine-tuned minus from scratch| (10 %, test AUC; ceiling)",
                 'abs(transfer_diffs[0.1, "fine-tuned"]["diff"])', "0.1", kind="ceiling", modes=("full",)),
    ]),
    "11": ("11_privacy_federated", [
        Quantity("centralised test AUC", "central", "CENTRAL_FLOOR"),
        Quantity("FedAvg (IID) minus the hospitals alone (mean)", 'auc["FedAvg (IID)"] - mean_alone', "0",
                 modes=("full",)),
        Quantity("FedAvg (IID) minus centralised", 'auc["FedAvg (IID)"] - central', "-MARGIN", modes=("full",)),
        Quantity("|FedAvg (IID) minus FedAvg (non-IID)| (ceiling)", 'abs(auc["FedAvg (IID)"] - auc["FedAvg (non-IID)"])',
                 "0.1", kind="ceiling", modes=("full",)),
        Quantity("exercise 3: FedAvg, 3 local epochs, test AUC", "auc_drift", "0.5"),
        Quantity("exercise 4: FedAvg (5 IID) minus the hospitals alone (mean)", "auc_fed5 - np.mean(alone5)", "0",
                 modes=("full",)),
    ]),
    "07b": ("07b_segment_and_measure", [
        Quantity("test Dice", 'seg["dice"]', "0.9", modes=("full",)),
    ]),
}


def seeded_copy(chapter: str, seed: int, out: Path) -> Path:
    """The chapter with its ``SEED = ...`` line set to ``seed`` (and ``medimgkit.set_seed(...)`` seeded by it)."""
    import nbformat

    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    found = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.source, n = re.subn(r"^SEED = \d+", f"SEED = {seed}", cell.source, flags=re.M)
        found += n
        cell.source = re.sub(r"medimgkit\.set_seed\(\d+\)", f"medimgkit.set_seed({seed})", cell.source)
    if found != 1:
        raise SystemExit(f"{chapter}: expected one `SEED = <int>` line in a code cell, found {found}")
    path = out / f"{chapter}-seed{seed}.ipynb"
    nbformat.write(nb, path)
    return path


def run_once(chapter: str, seed: int, quantities: list[Quantity], out: Path) -> dict:
    """Execute the seeded copy (in book/'s folder, so relative paths hold) and read every quantity."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = seeded_copy(chapter, seed, out)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}})
    start, status = time.perf_counter(), "passed"
    values: dict[str, float | None] = {}
    bounds: dict[str, float | None] = {}

    def read(source: str) -> float | None:
        """Evaluate ``float(source)`` in the kernel; None when the run never computed it."""
        cell = nbformat.v4.new_code_cell(f"print(repr(float({source})))")
        nb.cells.append(cell)
        try:
            client.execute_cell(cell, len(nb.cells) - 1)
            # stdout only: a late TensorFlow log line can arrive on stderr in the same cell
            out = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            return float(out.strip().splitlines()[-1])
        except Exception:  # noqa: BLE001 - a name the failed run never defined, or no output
            return None

    with client.setup_kernel():
        cells = list(nb.cells)
        for index, cell in enumerate(cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                last = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()[-1]  # no terminal colours
                status = f"failed at cell {index}: " + last[:160]
                break
        for q in quantities:
            values[q.name], bounds[q.name] = read(q.expression), read(q.bound)
    return {"seed": seed, "status": status, "seconds": round(time.perf_counter() - start, 1),
            "values": values, "bounds": bounds}


def supported(values: list[float], kind: str, margin: float, step: float = 0.01) -> float:
    """The bound the spread supports: min - margin rounded down (floor), or max + margin rounded up (ceiling), to ``step``."""
    if kind == "floor":
        return round(math.floor((min(values) - margin) / step) * step, 10)
    return round(math.ceil((max(values) + margin) / step) * step, 10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", nargs="?", help=f"one of {sorted(CHAPTERS)}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105],
                        help="at least 5, none of them the chapter's own (default 101..105)")
    parser.add_argument("--quick", action="store_true", help="quick mode (MEDIMGKIT_QUICK=1) instead of full mode")
    parser.add_argument("--margin", type=float, default=0.03, help="subtracted from the minimum (default 0.03)")
    parser.add_argument("--list", action="store_true", help="print the chapters and quantities known, and exit")
    args = parser.parse_args(argv)
    if args.list or args.chapter is None:
        for key, (name, qs) in CHAPTERS.items():
            print(f"{key}: {name}")
            for q in qs:
                print(f"    {q.name}: {q.expression} {'>' if q.kind == 'floor' else '<'} {q.bound} ({', '.join(q.modes)})")
        return 0
    if args.chapter not in CHAPTERS:
        raise SystemExit(f"unknown chapter {args.chapter!r}: expected one of {sorted(CHAPTERS)} (see --list)")
    if len(set(args.seeds)) < 5:
        raise SystemExit(f"--seeds: at least 5 different seeds, got {args.seeds}")
    chapter, quantities = CHAPTERS[args.chapter]
    mode = "quick" if args.quick else "full"
    quantities = [q for q in quantities if mode in q.modes]
    os.environ["MEDIMGKIT_QUICK"] = "1" if args.quick else "0"
    out = ROOT / "_build" / "floors"
    out.mkdir(parents=True, exist_ok=True)

    runs = []
    for seed in args.seeds:
        print(f"{chapter}, {mode} mode, seed {seed} ...", flush=True)
        runs.append(run_once(chapter, seed, quantities, out))
        print(f"  {runs[-1]['status']} in {runs[-1]['seconds']:.0f} s: {runs[-1]['values']}", flush=True)

    rows = []
    for q in quantities:
        values = [r["values"][q.name] for r in runs]
        known = [v for v in values if v is not None]
        bound = next((r["bounds"][q.name] for r in runs if r["bounds"][q.name] is not None), None)
        row = {"quantity": q.name, "kind": q.kind, **{f"seed {r['seed']}": v for r, v in zip(runs, values)}}
        if known:
            margin = args.margin if q.margin is None else q.margin
            best = supported(known, q.kind, margin, q.step)
            safe = bound is not None and (bound <= best if q.kind == "floor" else bound >= best)
            row.update({"min": min(known), "max": max(known), "supported": best, "chapter's": bound,
                        "verdict": "ok" if safe else "TOO HIGH" if q.kind == "floor" else "TOO LOW"})
        rows.append(row)
    report(f"floors_{args.chapter}_{mode}", rows, {
        "chapter": chapter, "mode": mode, "seeds": args.seeds, "margin": args.margin,
        "runs": [{k: r[k] for k in ("seed", "status", "seconds")} for r in runs]})
    failed = [r for r in runs if r["status"] != "passed"]
    print(f"\n{len(runs) - len(failed)} of {len(runs)} seeded runs passed every assertion"
          + (": " + "; ".join(f"seed {r['seed']} {r['status']}" for r in failed) if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
