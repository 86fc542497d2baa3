import pytest

import medimgkit


def test_quick_mode_switches(monkeypatch):
    monkeypatch.setenv("MEDIMGKIT_QUICK", "1")
    assert medimgkit.is_quick()
    assert medimgkit.quick(full=30, quick=2) == 2
    monkeypatch.setenv("MEDIMGKIT_QUICK", "0")
    assert not medimgkit.is_quick()
    assert medimgkit.quick(full=30, quick=2) == 30
    monkeypatch.delenv("MEDIMGKIT_QUICK")
    assert medimgkit.quick(full="a", quick="b") == "a"


def test_quick_mode_rejects_garbage(monkeypatch):
    monkeypatch.setenv("MEDIMGKIT_QUICK", "maybe")
    with pytest.raises(ValueError, match="'maybe'"):
        medimgkit.is_quick()


def test_data_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIMGKIT_DATA", str(tmp_path))
    assert medimgkit.data_dir() == tmp_path
    monkeypatch.delenv("MEDIMGKIT_DATA")
    assert medimgkit.data_dir().parts[-2:] == (".cache", "medimgkit")


def test_set_seed_rejects_negative():
    with pytest.raises(ValueError, match="-3"):
        medimgkit.set_seed(-3)
