"""tools/executed.py: what nbval's kernel sent becomes the executed notebook the site renders."""

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import executed  # noqa: E402


def _msg(msg_type, content, parent="run-1"):
    return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "parent_header": {"msg_id": parent},
            "content": content, "metadata": {}, "buffers": []}  # fmt: skip


class _Kernel:
    """What the recorder reads from nbval's kernel: the messages of the last execute request."""

    def __init__(self, messages, msg_id="run-1"):
        self.recorded_iopub, self.last_msg_id = messages, msg_id


def _notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("print(1)"),
                nbformat.v4.new_code_cell("explorer()")]  # fmt: skip
    path = tmp_path / "book" / "ch.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


def test_outputs_output_widgets_and_widget_state_are_replayed_as_nbclient_would(tmp_path):
    record = executed.NotebookRecord(_notebook(tmp_path), "book/ch.ipynb")
    first = [
        _msg("status", {"execution_state": "busy"}),
        _msg("stream", {"name": "stdout", "text": "1\n"}),
        _msg("stream", {"name": "stdout", "text": "stray\n"}, parent="another-request"),  # not this cell's
        _msg("status", {"execution_state": "idle"}),
    ]
    record.record_cell(0, _Kernel(first), "passed", 0.5)
    out_state = {"_model_name": "OutputModel", "_model_module": "@jupyter-widgets/output",
                 "_model_module_version": "1.0.0", "outputs": [], "msg_id": ""}  # fmt: skip
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    second = [
        _msg("comm_open", {"comm_id": "w1", "target_name": "jupyter.widget", "data": {"state": out_state, "buffer_paths": []}}),
        _msg("comm_msg", {"comm_id": "w1", "data": {"method": "update", "state": {"msg_id": "run-2"}, "buffer_paths": []}}, "run-2"),
        _msg("display_data", {"data": png, "metadata": {}, "transient": {}}, "run-2"),  # drawn inside the widget
        _msg("comm_msg", {"comm_id": "w1", "data": {"method": "update", "state": {"msg_id": ""}, "buffer_paths": []}}, "run-2"),
        _msg("display_data", {"data": {"application/vnd.jupyter.widget-view+json": {"model_id": "w1", "version_major": 2,
             "version_minor": 0}, "text/plain": "Output()"}, "metadata": {}, "transient": {}}, "run-2"),  # fmt: skip
        _msg("status", {"execution_state": "idle"}, "run-2"),
    ]
    second[0]["parent_header"]["msg_id"] = "run-2"
    record.record_cell(1, _Kernel(second, "run-2"), "passed", 1.5)
    path = record.write(tmp_path / "out", worker="gw0")

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [o.get("text") for o in code[0].outputs] == ["1\n"] and code[0].execution_count == 1
    assert [list(o.data) for o in code[1].outputs] == [["application/vnd.jupyter.widget-view+json", "text/plain"]]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]["w1"]["state"]
    assert state["outputs"][0]["data"]["image/png"] == "iVBORw0KGgo=", "the figure is not inside the output widget"
    run = nb.metadata[executed.RUN_KEY]
    assert run["status"] == "passed" and run["seconds"] == 2.0 and run["worker"] == "gw0"


def test_a_failed_or_missing_cell_makes_the_record_failed(tmp_path):
    record = executed.NotebookRecord(_notebook(tmp_path), "book/ch.ipynb")
    error = _msg("error", {"ename": "ValueError", "evalue": "bad", "traceback": ["ValueError: bad"]})
    record.record_cell(0, _Kernel([error, _msg("status", {"execution_state": "idle"})]), "failed", 0.1)
    run = nbformat.read(record.write(tmp_path / "out", None), as_version=4).metadata[executed.RUN_KEY]
    assert run["status"] == "failed" and run["failed_cells"] == [0] and run["cells_not_run"] == [1]


def test_intro_times_fill_the_reading_guide(tmp_path):
    intro = tmp_path / "intro.md"
    intro.write_text(
        "| chapter | read first | full mode, 2-core CPU | quick mode |\n|---|---|---:|---:|\n"
        "| 1. {doc}`One <01_one>` | Python | … | … |\n| 2. {doc}`Two <02_two>` | 1 | 2 min | 9 s |\n"
        "| 3. {doc}`Three <03_three>` | 2 | … | … |\n"
    )
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"cpu_seconds": {"book/01_one.ipynb": 4.0, "book/02_two.ipynb": 233.7}}))
    assert executed.intro_times(intro, timings) == ["01_one", "02_two"]
    lines = intro.read_text().splitlines()
    assert lines[2].endswith("| Python | … | under 10 s |") and lines[3].endswith("| 1 | 2 min | 4 min |")
    assert lines[4].endswith("| 2 | … | … |"), "a chapter without a time keeps its cells"
    assert executed.format_cpu(78.2) == "80 s"

    full = tmp_path / "execution_times.md"  # as tools/book_site.py writes it after make book
    full.write_text("Execution time per chapter\n\n| chapter | seconds | how |\n|---|---:|---|\n"
                    "| book/01_one | 95.0 | executed by the build (cache), ok |\n"
                    "| book/api | | not executed (stored outputs) |\n| **all chapters** | **95.0** | |\n")
    assert executed.full_seconds(full) == {"book/01_one.ipynb": 95.0}
    assert executed.intro_times(intro, full=full) == ["01_one"]
    assert intro.read_text().splitlines()[2].endswith("| Python | 2 min | under 10 s |")
    # make book's executor starts the longest chapters first, from the same column
    assert executed.intro_full_seconds(intro) == {"book/01_one.ipynb": 120.0, "book/02_two.ipynb": 120.0}
    assert [executed.parse_cpu(t) for t in ("under 10 s", "80 s", " 4 min ", "…")] == [10.0, 80.0, 240.0, None]

    timings.write_text(json.dumps({"cpu_seconds": {}}))
    with pytest.raises(SystemExit, match="no kernel CPU times"):
        executed.intro_times(intro, timings)
    full.write_text("| chapter | seconds | how |\n")
    with pytest.raises(SystemExit, match="lists no chapter executed by the build"):
        executed.intro_times(intro, full=full)


def test_execute_book_fills_the_build_cache_and_leaves_failures_to_the_build(tmp_path, capsys):
    """make book's parallel executor: what it caches, MyST-NB's cache mode finds; a failure is not cached."""
    pytest.importorskip("jupyter_cache", reason="a build tool: jupyter-cache comes with the book extra")
    import execute_book
    from jupyter_cache import get_cache

    paths = {}
    for name, code in {"ok": "x = 6 * 7\nprint(x)", "bad": "raise ValueError('a chapter that fails')"}.items():
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        paths[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, paths[name])
    build = tmp_path / "_build"
    assert execute_book.main(["--jobs", "2", "--build", str(build), str(paths["ok"]), str(paths["bad"])]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "a chapter that fails" in out and "2 at a time" in out

    cache = get_cache(str(build / ".jupyter_cache"))
    record = cache.match_cache_notebook(nbformat.read(paths["ok"], as_version=4))
    cached = cache.get_cache_bundle(record.pk).nb
    assert cached.cells[0].outputs[0]["text"] == "42\n" and record.data["execution_seconds"] > 0
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(paths["bad"], as_version=4))

    assert execute_book.main(["--build", str(build), str(paths["ok"])]) == 0   # cached: nothing to execute
    assert "is in the cache" in capsys.readouterr().out
