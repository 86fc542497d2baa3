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
        Quantity("source task validation AUC (pneumonia)", "source_auc", "0.8"),
        Quantity("chest X-ray features, frozen, test AUC (10 %)",
                 'metrics.roc_auc(y_test, transfer_probs[0.1]["frozen"], positive=MALIGNANT)', "0.6", modes=("full",)),
        Quantity("chest X-ray features, frozen, minus from scratch (10 %, test AUC; ceiling)",
                 'transfer_diffs[0.1, "frozen"]["diff"]', "0", kind="ceiling", modes=("full",)),
        Quantity("|fine-tuned minus from scratch| (10 %, test AUC; ceiling)",
                 'abs(transfer_diffs[0.1, "fine-tuned"]["diff"])', "0.1", kind="ceiling", modes=("full",)),
        Quantity("exercise 3: mean CI width of ten stratified halves minus the full test set's",
                 "half_width - full_width", "0"),
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
            return float(cell.outputs[-1]["text"].strip().splitlines()[-1])
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


def supported(values: list[float], kind: str, margin: float) -> float:
    """The bound the spread supports: min - margin rounded down (floor), or max + margin rounded up (ceiling)."""
    if kind == "floor":
        return math.floor((min(values) - margin) * 100) / 100
    return math.ceil((max(values) + margin) * 100) / 100


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
            best = supported(known, q.kind, args.margin)
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
