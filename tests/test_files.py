"""Files are written to a temporary name in the same folder, then renamed into place."""

import os
import stat

import pytest

from ae_reduce._utils.files import replacing, write_text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "result.csv"
    path.write_text("the earlier result\n")
    with pytest.raises(RuntimeError, match="disk full"), replacing(path) as temporary:
        assert os.path.dirname(temporary) == str(tmp_path)
        with open(temporary, "w") as handle:
            handle.write("half a res")
        raise RuntimeError("disk full")
    assert path.read_text() == "the earlier result\n"
    assert os.listdir(tmp_path) == ["result.csv"]


def test_text_that_cannot_be_encoded_leaves_the_old_file(tmp_path):
    path = tmp_path / "map.html"
    path.write_text("the earlier map")
    with pytest.raises(UnicodeEncodeError):
        write_text(path, "caf\udce9")
    assert path.read_text() == "the earlier map"
    assert os.listdir(tmp_path) == ["map.html"]


def test_a_replaced_file_keeps_its_permissions_and_links(tmp_path):
    target = tmp_path / "runs" / "latest.csv"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    with replacing(link) as temporary:
        assert temporary.endswith(".csv")
        with open(temporary, "w") as handle:
            handle.write("new")
    assert link.is_symlink()
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(target.parent)) == ["latest.csv"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "new.html", "page")
        write_text(tmp_path / ("n" * 250), "a long name")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.html").stat().st_mode) == 0o644
    assert (tmp_path / ("n" * 250)).read_text() == "a long name"


def test_a_missing_folder_is_named_rather_than_a_temporary_file(tmp_path):
    import numpy as np

    from ae_reduce import export_html

    target = tmp_path / "no such folder" / "map.html"
    with pytest.raises(FileNotFoundError) as raised:
        export_html(np.zeros((5, 2)), target)
    message = str(raised.value)
    assert "does not exist" in message and str(target) in message
    assert ".tmp" not in message
    assert not target.parent.exists()
