"""The interactive HTML map: the file it writes, and the page in a headless Chromium."""

import base64
import csv
import io
import itertools
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from ae_reduce import export_html
from ae_reduce.plotting._html import FLAGGED_COLOR as FLAGGED
from ae_reduce.plotting._html import MATCH_COLOR as MATCH
from ae_reduce.plotting._html import MISSING_COLOR as MISSING
from ae_reduce.plotting._html import SELECTED_COLOR as SELECTED
from ae_reduce.plotting._html import VIRIDIS, point_style

# One worker starts the headless browser that most tests here share.

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
NAMES = np.array(["ant", "bee", "cat"])


@pytest.fixture(scope="module")
def clusters():
    """Three separated clusters, one lone point (index 0) and some wrong predictions."""
    rng = np.random.default_rng(0)
    codes = np.arange(600) % 3
    Z = rng.normal(scale=0.5, size=(600, 2)) + np.array([[0, 0], [6, 0], [3, 5]])[codes]
    Z[0] = [-4.0, 6.0]
    labels = NAMES[codes]
    predictions = labels.copy()
    wrong = np.arange(1, 600, 20)
    predictions[wrong] = NAMES[(codes[wrong] + 1) % 3]
    return Z, labels, predictions


def _payload(path):
    text = Path(path).read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="ae-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1))


def test_file_is_self_contained_and_holds_the_data(clusters, tmp_path):
    Z, labels, predictions = clusters
    path = export_html(Z, tmp_path / "map.html", labels=labels, predictions=predictions)
    assert path == tmp_path / "map.html"
    text = path.read_text(encoding="utf-8")
    assert re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", text) is None
    payload = _payload(path)
    xy = np.frombuffer(base64.b64decode(payload["xy"]), dtype="<f4").reshape(-1, 2)
    np.testing.assert_allclose(xy, Z, rtol=1e-6)
    assert payload["classes"] == ["ant", "bee", "cat"]
    codes = np.frombuffer(base64.b64decode(payload["predictions"]), dtype="<i4")
    np.testing.assert_array_equal(np.array(payload["classes"])[codes], predictions)


def test_text_cannot_break_out_of_the_page(tmp_path):
    hover = ["</script><script>alert(1)</script>", "a & <b>"]
    path = export_html(
        np.eye(2),
        tmp_path / "map.html",
        hover=hover,
        title="</title><i>x",
        ids=["</script><script>alert(2)</script>", "<!--"],
        columns={"</script><script>alert(3)</script>": ["</script>", "x"]},
    )
    text = path.read_text(encoding="utf-8")
    assert re.search(r"alert\(\d\)</script>", text) is None
    assert "<!--" not in text
    assert "<i>x" not in text
    payload = _payload(path)
    assert payload["hover"] == hover
    assert payload["ids"] == ["</script><script>alert(2)</script>", "<!--"]
    assert payload["columns"][0]["classes"] == ["</script>", "x"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"Z": np.zeros((5, 3))}, r"shape \(n_samples, 2\)"),
        ({"Z": np.array([[0.0, np.inf]])}, "NaN or infinite"),
        ({"labels": np.arange(4)}, "labels has 4 values but Z has 5 rows"),
        ({"predictions": np.arange(6)}, "predictions has 6 values"),
        ({"hover": ["a"]}, "hover has 1 values"),
        ({"Z": np.zeros((2000, 2)), "labels": np.linspace(0, 1, 2000)}, "2000 distinct values"),
        ({"placed": [True] * 4}, "placed has 4 values but Z has 5 rows"),
        (
            {"placed": [0, 1, 2, 0, 1]},
            r"booleans .* or the integers 0 and 1, got 2 \(int\) at row 2",
        ),
        ({"placed": np.array([0.0, np.nan, 1.0, 0.0, 0.0])}, "placed contains NaN"),
        ({"placed": ["yes", "no", "no", "no", "no"]}, "got 'yes'"),
    ],
)
def test_bad_input_is_rejected(kwargs, message, tmp_path):
    arguments = {"Z": np.zeros((5, 2)), **kwargs}
    with pytest.raises(ValueError, match=message):
        export_html(path=tmp_path / "map.html", **arguments)


def test_coordinates_beyond_float32_are_refused(tmp_path):
    # Stored as float32 they would become infinite, and the page would draw nothing.
    Z = np.array([[0.0, 0.0], [1e39, 1.0]])
    with pytest.raises(ValueError, match="too large for float32"):
        export_html(Z, tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()
    with pytest.raises(ValueError, match="Complex data not supported"):
        export_html(np.ones((3, 2)) + 1j, tmp_path / "map.html")
    largest = float(np.finfo(np.float32).max)
    export_html(np.array([[-largest, 0.0], [largest, 1.0]]), tmp_path / "map.html")


def test_lone_surrogates_are_written_and_an_old_map_survives_failures(tmp_path):
    path = tmp_path / "map.html"
    path.write_text("an earlier map", encoding="utf-8")
    hover = ["caf\udce9", "half \ud83d of an emoji"]
    export_html(np.eye(2), path, hover=hover, labels=["\udcff", "b"], title="caf\udce9.csv")
    assert _payload(path)["hover"] == hover
    assert _payload(path)["classes"] == ["b", "\udcff"]
    assert "<title>caf\ufffd.csv</title>" in path.read_text(encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ValueError):
        export_html(np.eye(2), path, hover=["a"])
    assert path.read_bytes() == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["map.html"]


@pytest.mark.parametrize(
    "labels",
    [
        np.array([1, True, "1", 1.0, 0, False], dtype=object),
        [1, True, "1", 1.0, 0, False],
        ["a", "b", 3, 4, "a", "b"],
    ],
)
def test_labels_of_mixed_types_are_refused(labels, tmp_path):
    # Once they merged into the classes ['1', '1', '0'] (or failed with a raw
    # TypeError from sorting): a class is one value of one type.
    with pytest.raises(ValueError, match=r"Mix of label input types \(.*string"):
        export_html(np.zeros((6, 2)), tmp_path / "map.html", labels=labels)


def test_classes_keep_their_values(tmp_path):
    Z = np.zeros((6, 2))
    labels = [2, 1.0, 1, np.int64(2), None, np.nan]
    path = export_html(Z, tmp_path / "map.html", labels=labels)
    assert _payload(path)["classes"] == ["1", "2", "missing"]
    path = export_html(Z, path, labels=["1", "10", "missing", None, "2", "1"])
    # A label named "missing" and missing labels stay two classes, named apart.
    assert _payload(path)["classes"] == ["1", "10", "2", "missing", "(missing)"]
    path = export_html(Z, path, labels=[True, False] * 3, predictions=[True] * 6)
    assert _payload(path)["classes"] == ["False", "True"]
    with pytest.raises(ValueError, match="boolean and number"):
        export_html(Z, path, labels=[True, False] * 3, predictions=[1] * 6)


def test_points_grow_and_darken_as_they_get_fewer(tmp_path):
    # A few points are large and opaque; 5,000 stay clearly readable (the old rule drew
    # them 1.4 pixels wide at half opacity); 50,000 are small and light, where they pile up.
    styles = {
        n_points: _payload(export_html(np.zeros((n_points, 2)), tmp_path / "map.html"))
        for n_points in (1, 100, 1_000, 5_000, 50_000, 1_000_000)
    }
    radii = [styles[n]["radius"] for n in sorted(styles)]
    alphas = [styles[n]["alpha"] for n in sorted(styles)]
    assert radii == sorted(radii, reverse=True) and alphas == sorted(alphas, reverse=True)
    assert radii[0] == 6.0 and alphas[0] == 0.95
    assert styles[5_000]["radius"] >= 2.3 and styles[5_000]["alpha"] >= 0.65
    assert styles[50_000]["radius"] < 1.6 and styles[50_000]["alpha"] <= 0.5
    assert radii[-1] == 1.0 and alphas[-1] >= 0.3


def test_placed_rows_are_stored_as_one_bit_each(tmp_path):
    rng = np.random.default_rng(0)
    n_samples = 1001
    placed = rng.random(n_samples) < 0.3
    path = export_html(rng.normal(size=(n_samples, 2)), tmp_path / "map.html", placed=placed)
    payload = _payload(path)
    bits = base64.b64decode(payload["placed"])
    assert len(bits) == (n_samples + 7) // 8
    unpacked = np.unpackbits(np.frombuffer(bits, dtype=np.uint8), bitorder="little")
    np.testing.assert_array_equal(unpacked[:n_samples].astype(bool), placed)
    assert not unpacked[n_samples:].any()
    assert payload["placedRadius"] >= max(2.0, payload["radius"])
    assert payload["placedAlpha"] >= payload["alpha"]


def test_no_placed_rows_leaves_the_page_unchanged(clusters, tmp_path):
    Z, labels, predictions = clusters
    plain = export_html(Z, tmp_path / "plain.html", labels=labels, predictions=predictions)
    assert _payload(plain)["placed"] is None
    for name, placed in (("none", None), ("false", np.zeros(len(Z), dtype=bool))):
        path = export_html(
            Z, tmp_path / f"{name}.html", labels=labels, predictions=predictions, placed=placed
        )
        assert path.read_bytes() == plain.read_bytes()


# The arguments for finding problems, checked and stored ------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ids": ["a", "b", "c", "d"]}, ValueError, "ids has 4 values but Z has 5 rows"),
        ({"ids": ["a", "b", "c", "b", "e"]}, ValueError, "rows 1 and 3 both have the id 'b'"),
        ({"ids": [1, "1", 2, 3, 4]}, ValueError, "rows 0 and 1 both have the id '1'"),
        ({"ids": np.arange(5) + 0.5}, TypeError, "ids must be strings or integers.*float64"),
        ({"ids": ["a", 1.5, "c", "d", "e"]}, TypeError, r"got 1\.5 \(float\) at row 1"),
        ({"ids": ["a", True, "c", "d", "e"]}, TypeError, r"got True \(bool\) at row 1"),
        ({"ids": ["a", None, "c", "d", "e"]}, ValueError, "ids has a missing value"),
        ({"columns": [np.zeros(5)]}, TypeError, "columns must be a dict .* got list"),
        ({"columns": {"label": np.zeros(5)}}, ValueError, "column named 'label', the name of"),
        ({"columns": {"points": np.zeros(5)}}, ValueError, "column named 'points'"),
        ({"columns": {("a", 1): np.zeros(5)}}, TypeError, "columns names must be strings"),
        ({"columns": {1: np.zeros(5), "1": np.ones(5)}}, ValueError, "two columns named '1'"),
        ({"columns": {"": np.zeros(5)}}, ValueError, "column with an empty name"),
        ({"columns": {"x": np.zeros(4)}}, ValueError, r"columns\['x'\] has 4 values but Z"),
        ({"columns": {"x": [0.0, np.inf, 1, 2, 3]}}, ValueError, r"columns\['x'\] contains inf"),
        ({"columns": {"x": [1, "a", 1, 1, 1]}}, ValueError, r"Mix of label input types .* col"),
        ({"columns": {"x": np.arange(5) + 1j}}, ValueError, "Complex data not supported"),
        ({"columns": {"x": np.arange(5).astype("M8[D]")}}, TypeError, "dates or durations"),
        (
            {"issues": [0, 5]},
            ValueError,
            r"row index 5 \(at position 1\), out of range .*\(0 to 4\)",
        ),
        ({"issues": [-1]}, ValueError, "row index -1"),
        ({"issues": [2, 1, 2]}, ValueError, "row index 2 more than once.*astype.bool"),
        ({"issues": [0.0, 1.0]}, TypeError, "boolean mask or an array of integer row indices"),
        ({"issues": [True, False]}, ValueError, "boolean mask of 2 values but Z has 5 rows"),
        ({"issues": np.zeros((5, 1), bool)}, ValueError, "one-dimensional"),
        ({"images": np.zeros((5, 4))}, ValueError, r"\(n_samples, height, width\)"),
        ({"images": np.zeros((5, 4, 4, 4))}, ValueError, r"width, 3\), got .* \(5, 4, 4, 4\)"),
        ({"images": np.zeros((4, 3, 3))}, ValueError, "images has 4 images but Z has 5 rows"),
        ({"images": np.full((5, 2, 2), np.nan)}, ValueError, r"NaN or infinite .*image 0\)"),
        ({"images": np.array([["a"] * 4] * 5).reshape(5, 2, 2)}, TypeError, "must hold numbers"),
        (
            {"images": np.broadcast_to(np.uint8(0), (5, 5000, 5000))},
            ValueError,
            "images hold 125 MB of pixels.*at most 100 MB",
        ),
        ({"prediction_description": "x"}, ValueError, "given without predictions"),
        (
            {"predictions": np.zeros(5), "prediction_description": 3},
            TypeError,
            "prediction_description must be a str",
        ),
    ],
)
def test_bad_arguments_for_finding_problems_are_refused(kwargs, error, message, tmp_path):
    with pytest.raises(error, match=message):
        export_html(np.zeros((5, 2)), tmp_path / "map.html", **kwargs)
    assert not (tmp_path / "map.html").exists()


def _column(path, name):
    return next(column for column in _payload(path)["columns"] if column["name"] == name)


def _codes(text, dtype):
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def test_columns_become_classes_or_a_colour_ramp(tmp_path):
    pandas = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n_samples = 200
    whole = rng.integers(0, 5, n_samples).astype(float)
    whole[3] = np.nan
    measured = rng.normal(size=n_samples)
    measured[[4, 9]] = np.nan
    frame = pandas.DataFrame(
        {
            "measured": measured,
            "many integers": rng.integers(0, 500, n_samples),
            "few integers": rng.integers(0, 4, n_samples),
            "whole floats": whole,
            "flag": rng.random(n_samples) < 0.5,
            "text": rng.choice(["x", "y"], n_samples),
            "category": pandas.Categorical(rng.integers(100, 140, n_samples)),
            7: list(rng.normal(size=n_samples)),
        }
    )
    path = export_html(rng.normal(size=(n_samples, 2)), tmp_path / "map.html", columns=frame)
    columns = _payload(path)["columns"]
    assert [column["name"] for column in columns] == [*map(str, frame.columns)]
    assert [column["kind"] for column in columns] == [
        "values",
        "values",
        "classes",
        "classes",
        "classes",
        "classes",
        "classes",
        "values",
    ]
    ramp = columns[0]
    low, high = np.nanmin(measured), np.nanmax(measured)
    assert [ramp["min"], ramp["mid"], ramp["max"]] == [
        f"{low:.4g}",
        f"{(low + high) / 2:.4g}",
        f"{high:.4g}",
    ]
    codes = _codes(ramp["codes"], np.uint8)
    assert codes[[4, 9]].tolist() == [255, 255]
    present = np.delete(np.arange(n_samples), [4, 9])
    np.testing.assert_array_equal(
        codes[present], np.rint((measured[present] - low) / (high - low) * 254)
    )
    np.testing.assert_array_equal(_codes(ramp["values"], "<f8"), measured)
    assert columns[3]["classes"] == ["0", "1", "2", "3", "4", "missing"]
    assert columns[4]["classes"] == ["False", "True"]
    assert len(columns[6]["classes"]) == len(np.unique(frame["category"]))
    codes = _codes(columns[5]["codes"], "<u2")
    np.testing.assert_array_equal(np.array(columns[5]["classes"])[codes], frame["text"])


def test_only_the_first_columns_keep_their_values_for_the_hover_text(tmp_path):
    columns = {f"c{i}": np.linspace(0, i + 1, 30) for i in range(10)}
    constant = {"constant": np.full(30, 2.5)}
    path = export_html(np.zeros((30, 2)), tmp_path / "map.html", columns={**constant, **columns})
    stored = _payload(path)["columns"]
    assert [column["values"] is not None for column in stored] == [True] * 8 + [False] * 3
    # A constant column is drawn in the ramp's middle colour.
    assert set(_codes(stored[0]["codes"], np.uint8)) == {127}
    assert stored[0]["min"] == stored[0]["max"] == "2.5"


def test_a_few_extreme_values_do_not_squeeze_the_ramp(tmp_path):
    values = np.r_[np.linspace(0, 1, 300), 1000.0]
    path = export_html(np.zeros((301, 2)), tmp_path / "map.html", columns={"score": values})
    ramp = _payload(path)["columns"][0]
    codes = _codes(ramp["codes"], np.uint8)
    # Min-max scaling would give the 300 ordinary rows codes 0 and 1 only.
    assert len(np.unique(codes[:300])) > 200
    assert codes[300] == 254
    assert ramp["min"] == f"≤ {np.percentile(values, 1):.4g}"
    assert ramp["max"] == f"≥ {np.percentile(values, 99):.4g}"


def test_ramp_is_viridis():
    matplotlib = pytest.importorskip("matplotlib")
    from ae_reduce.plotting._html import VIRIDIS

    expected = matplotlib.colormaps["viridis"](np.linspace(0, 1, len(VIRIDIS)))[:, :3] * 255
    stops = np.array([[int(color[i : i + 2], 16) for i in (1, 3, 5)] for color in VIRIDIS])
    np.testing.assert_allclose(stops, expected, atol=0.6)


def test_ids_issues_and_the_prediction_line_are_stored(tmp_path):
    Z = np.zeros((6, 2))
    path = export_html(Z, tmp_path / "map.html", ids=np.arange(10, 16), issues=[4, 1])
    payload = _payload(path)
    assert payload["ids"] == ["10", "11", "12", "13", "14", "15"]
    assert _codes(payload["issues"], "<i4").tolist() == [4, 1]
    assert payload["issuesRanked"] is True
    assert payload["predictionNote"] is None
    mask = np.array([False, True, False, False, True, False])
    path = export_html(Z, path, issues=mask, predictions=[0, 1] * 3, ids=list("abcdef"))
    payload = _payload(path)
    assert payload["ids"] == list("abcdef")
    assert _codes(payload["issues"], "<i4").tolist() == [1, 4]
    assert payload["issuesRanked"] is False
    assert payload["predictionNote"] == "the classes passed as predictions"
    path = export_html(Z, path, labels=[0] * 6, predictions=[0, 1] * 3, issues=[])
    assert _payload(path)["ids"] is None
    assert _payload(path)["issues"] == ""
    assert _payload(path)["predictionNote"] == (
        "the classes passed as predictions, compared with the labels in the agreement mode"
    )
    path = export_html(Z, path, predictions=[0] * 6, prediction_description="out-of-fold")
    assert _payload(path)["predictionNote"] == "out-of-fold"


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        (np.array([[[0.0, 0.5]], [[1.0, 0.25]]]), [[[0, 128]], [[255, 64]]]),
        (np.array([[[-3, 7]], [[2, 2]]]), [[[0, 255]], [[128, 128]]]),
        (np.full((2, 1, 2), 7.0), [[[128, 128]], [[128, 128]]]),
        (np.array([[[True, False]], [[False, True]]]), [[[255, 0]], [[0, 255]]]),
    ],
)
def test_images_are_scaled_over_the_whole_array(images, expected, tmp_path):
    path = export_html(np.zeros((2, 2)), tmp_path / "map.html", images=images)
    payload = _payload(path)
    assert payload["imageShape"] == [1, 2, 1]
    np.testing.assert_array_equal(_codes(payload["images"], np.uint8).reshape(2, 1, 2), expected)


def test_rgb_images_keep_their_channels(tmp_path):
    images = np.zeros((3, 2, 4, 3), dtype=np.uint8)
    images[1, 0, 3] = [10, 20, 30]
    payload = _payload(export_html(np.zeros((3, 2)), tmp_path / "map.html", images=images))
    assert payload["imageShape"] == [2, 4, 3]
    stored = _codes(payload["images"], np.uint8).reshape(images.shape)
    assert stored[1, 0, 3].tolist() == [85, 170, 255]
    assert stored.sum() == 85 + 170 + 255


# In the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(
            f"Chromium and chromedriver not found at {CHROMIUM} and {CHROMEDRIVER}; "
            "install them with tools/install_browser.sh (Debian: chromium chromium-driver)"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="ae-reduce-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,700",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path):
    driver.get(path.resolve().as_uri())
    for _ in range(100):
        if driver.execute_script("return document.body.dataset.ready === 'true'"):
            return
        time.sleep(0.05)
    raise AssertionError("the map did not finish loading")


def _wait_for(driver, script, timeout=5.0):
    """The value of `script` once it is truthy; input events may arrive a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def _errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _pixels(driver):
    """Counts of canvas pixels that are not background white, and of red ones."""
    return driver.execute_script(
        """
        var canvas = document.getElementById('ae-canvas');
        var pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        var drawn = 0, red = 0;
        for (var i = 0; i < pixels.length; i += 4) {
          if (pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250) drawn++;
          var green = pixels[i + 1], blue = pixels[i + 2];
          if (pixels[i] - green > 60 && Math.abs(green - blue) < 30) red++;
        }
        return {drawn: drawn, red: red, total: pixels.length / 4};
        """
    )


def _legend_item(driver, name):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'.ae-legend-item[data-name="{name}"]')


def _hover(driver, index):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "ae-canvas")
    box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", canvas)
    point = driver.execute_script("return aeMap.screenPosition(arguments[0])", index)
    dx = round(point["x"] - (box["left"] + box["width"] / 2))
    dy = round(point["y"] - (box["top"] + box["height"] / 2))
    ActionChains(driver).move_to_element_with_offset(canvas, dx, dy).perform()


@pytest.fixture(scope="module")
def page(clusters, browser, tmp_path_factory):
    Z, labels, predictions = clusters
    hover = [f"row {i}: <{label}> & co" for i, label in enumerate(labels)]
    path = tmp_path_factory.mktemp("map") / "map.html"
    export_html(Z, path, labels=labels, predictions=predictions, hover=hover, title="Test map")
    browser.get_log("browser")
    _open(browser, path)
    return browser, hover


def test_page_loads_without_errors_and_draws_points(page):
    driver, _ = page
    assert _errors(driver) == []
    assert driver.title == "Test map"
    assert driver.execute_script("return aeMap.modes()") == ["label", "prediction", "agreement"]
    pixels = _pixels(driver)
    assert pixels["drawn"] > 1000
    assert pixels["drawn"] < 0.5 * pixels["total"]


def test_legend_click_hides_and_shows_a_class(page):
    driver, _ = page
    driver.execute_script("aeMap.setMode('label')")
    before = _pixels(driver)["drawn"]
    item = _legend_item(driver, "bee")
    item.click()
    assert item.get_attribute("data-hidden") == "true"
    assert driver.execute_script("return aeMap.hiddenKeys()") == [1]
    hidden = _pixels(driver)["drawn"]
    assert hidden < 0.8 * before
    item.click()
    assert driver.execute_script("return aeMap.hiddenKeys()") == []
    assert _pixels(driver)["drawn"] == before


def test_hover_shows_the_text_of_the_point(page):
    driver, hover = page
    driver.execute_script("aeMap.setMode('label')")
    from selenium.webdriver.common.by import By

    for index in (0, 5):
        _hover(driver, index)
        assert _wait_for(driver, f"return aeMap.hovered() === {index}")
        tooltip = driver.find_element(By.ID, "ae-tooltip")
        assert tooltip.is_displayed()
        assert tooltip.text == hover[index]
    # A hidden point cannot be hovered.
    driver.execute_script("aeMap.toggle(2)")
    _hover(driver, 0)
    assert _wait_for(driver, "return aeMap.hovered() === 0")
    _hover(driver, 5)
    assert _wait_for(driver, "return aeMap.hovered() === -1")
    assert driver.find_element(By.ID, "ae-tooltip").text != hover[5]
    driver.execute_script("aeMap.toggle(2)")
    assert _errors(driver) == []


def test_agreement_mode_shows_disagreements(page):
    driver, _ = page
    driver.execute_script("aeMap.setMode('label')")
    assert _pixels(driver)["red"] < 50
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    Select(driver.find_element(By.ID, "ae-color-by")).select_by_value("agreement")
    assert driver.execute_script("return aeMap.mode()") == "agreement"
    with_disagreements = _pixels(driver)["red"]
    assert with_disagreements > 50
    _legend_item(driver, "disagree").click()
    assert _pixels(driver)["red"] < 0.1 * with_disagreements
    _legend_item(driver, "disagree").click()


def test_drag_pans_and_wheel_zooms(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
    from selenium.webdriver.common.by import By

    driver, _ = page
    canvas = driver.find_element(By.ID, "ae-canvas")
    start = driver.execute_script("return aeMap.screenPosition(0)")
    ActionChains(driver).move_to_element(canvas).click_and_hold().move_by_offset(
        40, 30
    ).release().perform()
    moved = driver.execute_script("return aeMap.screenPosition(0)")
    assert moved["x"] == pytest.approx(start["x"] + 40, abs=1)
    assert moved["y"] == pytest.approx(start["y"] + 30, abs=1)
    ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(canvas), 0, -300).perform()
    assert _wait_for(driver, "return aeMap.zoom() > 1.5")
    assert _errors(driver) == []


def test_hundred_thousand_points_draw_quickly(browser, tmp_path):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 10, 100_000)
    Z = rng.normal(size=(100_000, 2)) + rng.normal(scale=6, size=(10, 2))[codes]
    path = export_html(Z, tmp_path / "large.html", labels=codes, predictions=codes)
    browser.get_log("browser")
    _open(browser, path)
    assert _errors(browser) == []
    start = time.perf_counter()
    browser.execute_script("for (var i = 0; i < 10; i++) aeMap.toggle(3);")
    per_frame = (time.perf_counter() - start) / 10
    # Generous bound for a headless software renderer; a desktop browser is faster.
    assert per_frame < 0.25
    assert _pixels(browser)["drawn"] > 10_000
    _hover(browser, 123)
    assert _wait_for(browser, "return aeMap.hovered() >= 0")


def test_page_with_lone_surrogates_loads(browser, tmp_path):
    hover = ["caf\udce9", "plain"]
    path = export_html(np.eye(2), tmp_path / "map.html", hover=hover, title="caf\udce9")
    browser.get_log("browser")
    _open(browser, path)
    assert _errors(browser) == []
    assert browser.title == "caf\ufffd"
    assert browser.execute_script("return aeMap.modes()") == ["points"]
    # The page's string holds the lone surrogate itself, as the user's did.
    assert browser.execute_script("return aeMap.hoverText(0).charCodeAt(3)") == 0xDCE9


def test_page_without_placed_rows_hides_the_marker_panel(clusters, browser, tmp_path):
    from selenium.webdriver.common.by import By

    Z, labels, _ = clusters
    browser.get_log("browser")
    _open(browser, export_html(Z, tmp_path / "map.html", labels))
    assert browser.execute_script("return aeMap.placedCount") == 0
    assert not browser.find_element(By.ID, "ae-markers").is_displayed()
    assert browser.execute_script("return aeMap.hoverText(0)") == "point 0\nlabel: ant"
    assert browser.execute_script("return aeMap.radii().placed") is None
    assert _errors(browser) == []


@pytest.fixture(scope="module")
def placed_page(clusters, browser, tmp_path_factory):
    """The clusters with every fifth row placed; row 0 (alone, placed, a disagreement) and
    row 1 (moved away from the rest, a map row) show the two markers apart."""
    Z, labels, predictions = clusters
    Z, predictions = Z.copy(), predictions.copy()
    Z[1] = [9.0, 6.0]
    predictions[0] = "bee"
    placed = np.arange(len(Z)) % 5 == 0
    hover = [f"row {i}" for i in range(len(Z))]
    path = tmp_path_factory.mktemp("placed") / "map.html"
    export_html(Z, path, labels, predictions, hover, title="Placed", placed=placed)
    browser.get_log("browser")
    _open(browser, path)
    return browser, placed


def _around(driver, index, reach):
    """Whether each canvas pixel within `reach` of point `index` is drawn (not white),
    as rows of a (2 reach + 1) square, and the colour of its centre pixel."""
    return driver.execute_script(
        """
        var index = arguments[0], reach = arguments[1];
        var canvas = document.getElementById('ae-canvas');
        var box = canvas.getBoundingClientRect(), at = aeMap.screenPosition(index);
        var ratio = canvas.width / box.width;
        var x = Math.round((at.x - box.left) * ratio), y = Math.round((at.y - box.top) * ratio);
        var size = 2 * reach + 1;
        var pixels = canvas.getContext('2d').getImageData(x - reach, y - reach, size, size).data;
        var drawn = [];
        for (var row = 0; row < size; row++) {
          var line = [];
          for (var column = 0; column < size; column++) {
            var i = 4 * (row * size + column);
            line.push(pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250);
          }
          drawn.push(line);
        }
        var centre = 4 * (reach * size + reach);
        return {drawn: drawn, centre: [pixels[centre], pixels[centre + 1], pixels[centre + 2]]};
        """,
        index,
        reach,
    )


@pytest.mark.parametrize("mode", ["label", "prediction", "agreement"])
def test_placed_rows_are_drawn_as_crosses_in_every_mode(placed_page, mode):
    driver, _ = placed_page
    driver.execute_script("aeMap.setMode(arguments[0])", mode)
    radii = driver.execute_script("return aeMap.radii()")
    reach = int(radii["placed"]) + 3
    # Row 0 is placed: its cross covers the diagonals but not the axes.
    cross = _around(driver, 0, reach)
    arm = max(2, int(radii["placed"]))
    assert cross["drawn"][reach][reach]
    for dx, dy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        assert cross["drawn"][reach + dy * (arm - 1)][reach + dx * (arm - 1)]
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        assert not cross["drawn"][reach + dy * arm][reach + dx * arm]
    # Row 1 is a map row: its dot covers the axes next to its centre.
    dot = _around(driver, 1, reach)
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        assert dot["drawn"][reach + dy][reach + dx]
    # The cross has the colour the mode gives row 0: ant (blue), bee (orange) or
    # disagreement (red).
    red, green, blue = cross["centre"]
    expected = {"label": blue > red, "prediction": red > blue, "agreement": red > green + 60}
    assert expected[mode], cross["centre"]
    assert _errors(driver) == []


def test_placed_rows_are_explained_and_hidden_with_their_class(placed_page):
    from selenium.webdriver.common.by import By

    driver, placed = placed_page
    driver.execute_script("aeMap.setMode('label')")
    assert driver.execute_script("return aeMap.placedCount") == placed.sum() == 120
    markers = driver.find_element(By.ID, "ae-markers")
    assert markers.is_displayed()
    assert markers.text.split("\n") == ["rows of the map", "480", "placed on the map", "120"]
    assert driver.execute_script(
        "return [aeMap.isPlaced(0), aeMap.isPlaced(1), aeMap.isPlaced(5)]"
    ) == [True, False, True]
    # Hiding row 0's class hides its cross too.
    driver.execute_script("aeMap.toggle(0)")
    assert not any(any(line) for line in _around(driver, 0, 2)["drawn"])
    driver.execute_script("aeMap.toggle(0)")
    assert _around(driver, 0, 2)["drawn"][2][2]


def test_hover_says_a_row_was_placed(placed_page):
    from selenium.webdriver.common.by import By

    driver, _ = placed_page
    driver.execute_script("aeMap.setMode('agreement')")
    _hover(driver, 0)
    assert _wait_for(driver, "return aeMap.hovered() === 0")
    tooltip = driver.find_element(By.ID, "ae-tooltip")
    assert tooltip.text == "row 0\nplaced on the existing map"
    _hover(driver, 1)
    assert _wait_for(driver, "return aeMap.hovered() === 1")
    assert tooltip.text == "row 1"
    assert _errors(driver) == []


def test_default_hover_text_of_a_placed_row(browser, tmp_path):
    path = export_html(
        np.eye(3, 2), tmp_path / "map.html", labels=["a", "b", "a"], placed=[0, 1, 0]
    )
    browser.get_log("browser")
    _open(browser, path)
    assert browser.execute_script("return aeMap.hoverText(1)") == (
        "point 1\nlabel: b\nplaced on the existing map"
    )
    assert browser.execute_script("return aeMap.hoverText(0)") == "point 0\nlabel: a"
    assert _errors(browser) == []


def test_hundred_thousand_points_with_placed_rows_draw_quickly(browser, tmp_path):
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 10, 100_000)
    Z = rng.normal(size=(100_000, 2)) + rng.normal(scale=6, size=(10, 2))[codes]
    predictions = np.where(rng.random(100_000) < 0.05, (codes + 1) % 10, codes)
    path = export_html(
        Z, tmp_path / "large.html", codes, predictions, placed=rng.random(100_000) < 0.2
    )
    browser.get_log("browser")
    _open(browser, path)
    browser.execute_script("aeMap.setMode('agreement')")
    assert _errors(browser) == []
    start = time.perf_counter()
    browser.execute_script("for (var i = 0; i < 10; i++) aeMap.toggle(0);")
    per_frame = (time.perf_counter() - start) / 10
    # The same bound as without placed rows.
    assert per_frame < 0.25
    assert _pixels(browser)["drawn"] > 10_000


# Finding problems: ids, search, selection, columns, flagged rows, thumbnails ---------------

DESCRIPTION = "the class out-of-fold cross-validated models gave each row"
#: Rows 0 to 4 lie alone, far from the three clusters, so that their pixels can be read.
PROBES = [[-4.0, 6.0], [10.0, 6.0], [-4.0, -3.0], [10.0, -3.0], [3.0, 9.0]]
ISSUES = [3, 0, 20, 150, 301]


@pytest.fixture(scope="module")
def features(clusters):
    """Everything the map can show about 600 rows: ids (some that need quoting in a CSV
    file), hover text, a measured column with missing values, a column of classes, a
    column of many integers, flagged rows (row 3 first), thumbnails and placed rows."""
    Z, labels, predictions = clusters
    Z = Z.copy()
    Z[:5] = PROBES
    n_samples = len(Z)
    rng = np.random.default_rng(1)
    ids = np.array([f"img-{i:04d}" for i in range(n_samples)], dtype=object)
    ids[10], ids[11], ids[12] = 'a,"quoted" id', "two\nlines", "comma, only"
    score = 10 + 40 * rng.random(n_samples)
    score[:2] = [50, 10]
    score[[2, 100, 101, 102, 103, 104]] = np.nan
    return {
        "Z": Z,
        "labels": labels,
        "predictions": predictions,
        "hover": [f"row {i}: <{label}> & co" for i, label in enumerate(labels)],
        "ids": ids,
        "columns": {
            "score": score,
            "source": np.array(["web", "scan", "phone"])[rng.integers(0, 3, n_samples)],
            "count": rng.integers(0, 100, n_samples),
        },
        "issues": np.array(ISSUES),
        "images": rng.integers(0, 16, (n_samples, 8, 8)).astype(float),
        "placed": np.arange(n_samples) % 7 == 6,
        "prediction_description": DESCRIPTION,
    }


@pytest.fixture(scope="module")
def feature_page(features, browser, tmp_path_factory):
    path = tmp_path_factory.mktemp("features") / "map.html"
    export_html(path=path, title="Features", **features)
    browser.get_log("browser")
    _open(browser, path)
    return browser, features


def _fresh(driver):
    """Back to the state a user opens the page in (the tests share one page)."""
    driver.execute_script(
        """
        aeMap.setMode('label');
        aeMap.hiddenKeys().forEach(function (key) { aeMap.toggle(key); });
        aeMap.search(''); aeMap.clearSelection(); aeMap.setOnlyFlagged(false);
        aeMap.setTool('pan'); aeMap.resetView();
        """
    )


def _colors_around(driver, index, reach):
    """The canvas's RGB pixels within `reach` of point `index`: (2 reach + 1) squared."""
    pixels = driver.execute_script(
        """
        var index = arguments[0], reach = arguments[1];
        var canvas = document.getElementById('ae-canvas');
        var box = canvas.getBoundingClientRect(), at = aeMap.screenPosition(index);
        var ratio = canvas.width / box.width;
        var x = Math.round((at.x - box.left) * ratio), y = Math.round((at.y - box.top) * ratio);
        var size = 2 * reach + 1;
        return Array.from(
          canvas.getContext('2d').getImageData(x - reach, y - reach, size, size).data);
        """,
        index,
        reach,
    )
    return np.array(pixels).reshape(2 * reach + 1, 2 * reach + 1, 4)[:, :, :3]


def _ring(driver, index, level):
    """Pixels of point `index` on the ring of a level (0 flagged, 1 selected, 2 matched)."""
    # Flagged rows and matches are drawn larger; a selected row that is not flagged
    # keeps its size, and its ring stays close.
    radii = driver.execute_script("return aeMap.radii()")
    enlarged = level != 1 or driver.execute_script("return aeMap.isFlagged(arguments[0])", index)
    radius = radii["marked"] if enlarged else radii["map"]
    middle = radius + 1 + 1.5 * level + 0.75
    reach = int(np.ceil(middle + 1))
    colors = _colors_around(driver, index, reach)
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    return colors[np.abs(np.hypot(dx, dy) - middle) < 0.5]


def _rgb(color):
    return [int(color[i : i + 2], 16) for i in (1, 3, 5)]


def _near(pixels, color, tolerance=40):
    """How many of `pixels` lie within `tolerance` of the hex `color` in every channel."""
    return int((np.abs(pixels - np.array(_rgb(color))) <= tolerance).all(axis=1).sum())


def _float32(Z):
    # The page stores float32 coordinates and computes in float64.
    return np.asarray(Z).astype(np.float32).astype(np.float64)


def _in_polygon(points, polygon):
    """The even-odd rule, with the same operations in the same order as the page."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    xs, ys = polygon[:, 0], polygon[:, 1]
    for i in range(len(polygon)):
        j = i - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = x < (xs[j] - xs[i]) * (y - ys[i]) / (ys[j] - ys[i]) + xs[i]
        inside ^= ((ys[i] > y) != (ys[j] > y)) & crossing
    return inside


def _drag(driver, offsets, *, shift=False):
    """Press at the first offset from the canvas centre, move through the others,
    release; returns the data positions of the offsets as the page reads them."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    canvas = driver.find_element(By.ID, "ae-canvas")
    box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", canvas)
    centre_x, centre_y = box["left"] + box["width"] / 2, box["top"] + box["height"] / 2
    # Short moves: the default of 250 ms each is most of a test's time.
    actions = ActionChains(driver, duration=20)
    if shift:
        actions.key_down(Keys.SHIFT)
    actions.move_to_element_with_offset(canvas, *offsets[0]).click_and_hold()
    for (x0, y0), (x1, y1) in itertools.pairwise(offsets):
        actions.move_by_offset(x1 - x0, y1 - y0)
    actions.release()
    if shift:
        actions.key_up(Keys.SHIFT)
    actions.perform()
    return [
        driver.execute_script(
            "var p = aeMap.dataPosition(arguments[0], arguments[1]); return [p.x, p.y]",
            centre_x + dx,
            centre_y + dy,
        )
        for dx, dy in offsets
    ]


def test_page_with_every_feature_loads_and_explains_the_predictions(feature_page):
    from selenium.webdriver.common.by import By

    driver, features = feature_page
    assert _errors(driver) == []
    assert driver.execute_script("return aeMap.modes()") == [
        "label",
        "prediction",
        "agreement",
        "score",
        "source",
        "count",
    ]
    note = driver.find_element(By.ID, "ae-prediction-note")
    assert note.is_displayed()
    assert note.text == f"prediction: {DESCRIPTION}"
    score = features["columns"]["score"][20]
    source = features["columns"]["source"][20]
    count = features["columns"]["count"][20]
    assert driver.execute_script("return aeMap.hoverText(20)").split("\n") == [
        "id: img-0020",
        "row 20: <cat> & co",
        f"score: {float(f'{score:.6g}'):g}",
        f"source: {source}",
        f"count: {count}",
        "placed on the existing map",
        "flagged as a possible label issue (rank 3 of 5)",
    ]
    assert driver.execute_script("return aeMap.hoverText(2)").split("\n")[2] == "score: missing"


def test_search_rings_rows_found_by_id_or_hover_text_and_zooms_to_them(feature_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver, _ = feature_page
    _fresh(driver)
    box = driver.find_element(By.ID, "ae-search")
    count = driver.find_element(By.ID, "ae-search-count")
    assert _near(_ring(driver, 4, 2), MATCH) == 0
    box.send_keys("IMG-0004")
    assert driver.execute_script("return aeMap.matches()") == [4]
    assert count.text == "1 match"
    assert _near(_ring(driver, 4, 2), MATCH) > 10
    assert _near(_ring(driver, 1, 2), MATCH) == 0
    box.send_keys(Keys.ENTER)
    assert driver.execute_script("return aeMap.zoom()") >= 8
    canvas = driver.execute_script(
        "return document.getElementById('ae-canvas').getBoundingClientRect().toJSON()"
    )
    at = driver.execute_script("return aeMap.screenPosition(4)")
    assert at["x"] == pytest.approx(canvas["left"] + canvas["width"] / 2, abs=1)
    assert at["y"] == pytest.approx(canvas["top"] + canvas["height"] / 2, abs=1)
    assert driver.execute_script("return aeMap.hovered()") == 4
    assert driver.execute_script("return aeMap.tooltipText()").startswith("id: img-0004\n")
    # Hover text, whatever its case; the count says how many matches are hidden.
    assert driver.execute_script("return aeMap.search('ROW 7:')") == 1
    assert driver.execute_script("return aeMap.matches()") == [7]
    assert driver.execute_script("return aeMap.search('<Bee>')") == 200
    driver.execute_script("aeMap.toggle(1)")
    assert count.text == "200 matches (200 hidden)"
    box.clear()
    box.send_keys(Keys.SPACE, Keys.BACKSPACE)
    assert driver.execute_script("return aeMap.matches()") == []
    assert count.text == ""
    _fresh(driver)
    assert _near(_ring(driver, 4, 2), MATCH) == 0
    assert _errors(driver) == []


def test_box_selection_takes_the_shown_rows_inside(feature_page):
    from selenium.webdriver.common.by import By

    driver, features = feature_page
    _fresh(driver)
    Z, labels = _float32(features["Z"]), features["labels"]
    inside = (Z[:, 0] >= 2) & (Z[:, 0] <= 7) & (Z[:, 1] >= -1) & (Z[:, 1] <= 6)
    assert driver.execute_script("return aeMap.selectBox(7, 6, 2, -1)") == inside.sum()
    assert driver.execute_script("return aeMap.selected()") == np.flatnonzero(inside).tolist()
    assert driver.find_element(By.ID, "ae-selection-count").text == str(inside.sum())
    # Rows of a hidden class are not selected.
    driver.execute_script("aeMap.toggle(1)")
    driver.execute_script("aeMap.selectBox(2, -1, 7, 6)")
    expected = np.flatnonzero(inside & (labels != "bee")).tolist()
    assert driver.execute_script("return aeMap.selected()") == expected
    driver.execute_script("aeMap.toggle(1)")
    # Selected rows are ringed.
    assert _near(_ring(driver, 1, 1), SELECTED) == 0
    assert driver.execute_script("return aeMap.selectBox(9, 5, 11, 7)") == 1
    assert _near(_ring(driver, 1, 1), SELECTED) > 10
    # Dragging with the box tool, or with shift in the pan tool.
    for tool, shift in (("box", False), ("pan", True)):
        _fresh(driver)
        driver.find_element(By.CSS_SELECTOR, f'#ae-tools [data-tool="{tool}"]').click()
        corners = np.array(_drag(driver, [(-200, -150), (-60, -30), (30, 60)], shift=shift))
        shape = driver.execute_script("return aeMap.selectionShape()")
        assert shape["kind"] == "box"
        low, high = corners[[0, 2]].min(axis=0), corners[[0, 2]].max(axis=0)
        # Within a pixel (about 0.02 here): the pointer lands on whole pixels.
        np.testing.assert_allclose(shape["points"], [low, high], atol=0.05)
        inside = ((Z >= low) & (Z <= high)).all(axis=1)
        assert inside.sum() > 50
        assert driver.execute_script("return aeMap.selected()") == np.flatnonzero(inside).tolist()
        assert driver.execute_script("return aeMap.tool()") == tool
    driver.find_element(By.ID, "ae-clear").click()
    assert driver.execute_script("return aeMap.selected()") == []
    assert not driver.find_element(By.ID, "ae-selection").is_displayed()
    assert _errors(driver) == []


def test_lasso_selection_takes_the_rows_inside_the_outline(feature_page):
    from selenium.webdriver.common.by import By

    driver, features = feature_page
    _fresh(driver)
    Z = _float32(features["Z"])
    # A concave outline: an "L" around one cluster and over parts of the two others.
    polygon = np.array([[-2, -2], [8, -2], [8, 0.5], [1.5, 0.5], [1.5, 6.5], [-2, 6.5]])
    expected = np.flatnonzero(_in_polygon(Z, polygon))
    assert 250 < len(expected) < 400
    count = driver.execute_script("return aeMap.selectLasso(arguments[0])", polygon.tolist())
    assert count == len(expected)
    assert driver.execute_script("return aeMap.selected()") == expected.tolist()
    driver.find_element(By.CSS_SELECTOR, '#ae-tools [data-tool="lasso"]').click()
    outline = [(-250, -160), (80, -160), (80, 40), (-60, 0), (-250, 120)]
    drawn = np.array(_drag(driver, outline))
    shape = driver.execute_script("return aeMap.selectionShape()")
    assert shape["kind"] == "lasso"
    points = np.array(shape["points"])
    # The outline passes through the corners dragged to (and maybe points between them).
    for corner in drawn:
        assert np.min(np.hypot(*(points - corner).T)) < 0.05
    selected = driver.execute_script("return aeMap.selected()")
    assert selected == np.flatnonzero(_in_polygon(Z, points)).tolist()
    assert len(selected) > 20
    assert _errors(driver) == []


def test_selection_csv_lists_the_ids_quoted_and_downloads(feature_page):
    driver, features = feature_page
    _fresh(driver)
    Z = features["Z"]
    driver.execute_script("aeMap.selectBox(-100, -100, 100, 100)")
    text = driver.execute_script("return aeMap.selectionCsv()")
    assert text.endswith("\r\n")
    assert '\r\n"a,""quoted"" id",' in text
    assert '\r\n"two\nlines",' in text
    assert '\r\n"comma, only",' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["id", "x", "y", "label", "prediction", "flagged"]
    ids, x, y, labels, predictions, flagged = zip(*rows[1:], strict=True)
    assert list(ids) == list(features["ids"])
    np.testing.assert_array_equal(np.array(x, dtype=np.float32), Z[:, 0].astype(np.float32))
    np.testing.assert_array_equal(np.array(y, dtype=np.float32), Z[:, 1].astype(np.float32))
    assert list(labels) == list(features["labels"])
    assert list(predictions) == list(features["predictions"])
    assert [i for i, flag in enumerate(flagged) if flag == "true"] == sorted(ISSUES)
    # The button saves the same text through a link to a Blob.
    saved = driver.execute_async_script(
        """
        var done = arguments[arguments.length - 1], link = null;
        var click = HTMLAnchorElement.prototype.click;
        HTMLAnchorElement.prototype.click = function () { link = this; };
        try { document.getElementById('ae-download').click(); }
        finally { HTMLAnchorElement.prototype.click = click; }
        fetch(link.href).then(function (response) { return response.text(); })
          .then(function (text) { done({name: link.download, text: text}); });
        """
    )
    assert saved == {"name": "selection.csv", "text": text}
    assert _errors(driver) == []


def test_continuous_column_gets_a_colour_bar_and_counts_missing_values(feature_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver, features = feature_page
    _fresh(driver)
    assert not driver.find_element(By.ID, "ae-colorbar").is_displayed()
    Select(driver.find_element(By.ID, "ae-color-by")).select_by_value("score")
    colorbar = driver.find_element(By.ID, "ae-colorbar")
    assert colorbar.is_displayed()
    assert colorbar.text.split() == ["10", "30", "50"]
    assert driver.find_element(By.ID, "ae-legend-title").text == "score"
    assert driver.find_element(By.ID, "ae-legend").text.split("\n") == ["missing", "6"]
    # Row 0 holds the largest value and is flagged, so drawn opaque; rows 1 (smallest
    # value) and 2 (missing) are blended with the white background.
    alpha = point_style(len(features["Z"]))[1]
    assert _colors_around(driver, 0, 0)[0, 0].tolist() == _rgb(VIRIDIS[-1])
    for index, color in ((1, VIRIDIS[0]), (2, MISSING)):
        expected = 255 + alpha * (np.array(_rgb(color)) - 255)
        np.testing.assert_allclose(_colors_around(driver, index, 0)[0, 0], expected, atol=3)
    _legend_item(driver, "missing").click()
    assert (_colors_around(driver, 2, 2) == 255).all()
    assert _errors(driver) == []


def test_column_of_classes_gets_a_legend(feature_page):
    from selenium.webdriver.common.by import By

    driver, features = feature_page
    _fresh(driver)
    driver.execute_script("aeMap.setMode('source')")
    names, counts = np.unique(features["columns"]["source"], return_counts=True)
    legend = driver.find_element(By.ID, "ae-legend").text.split("\n")
    assert legend == [text for pair in zip(names, counts, strict=True) for text in map(str, pair)]
    assert not driver.find_element(By.ID, "ae-colorbar").is_displayed()
    assert _errors(driver) == []


def test_flagged_rows_are_ringed_in_every_mode_and_can_be_shown_alone(feature_page):
    from selenium.webdriver.common.by import By

    driver, _ = feature_page
    _fresh(driver)
    panel = driver.find_element(By.ID, "ae-issues")
    assert panel.text.split("\n")[:2] == ["possible label issues", "5"]
    assert driver.execute_script("return aeMap.flaggedCount") == 5
    for mode in driver.execute_script("return aeMap.modes()"):
        driver.execute_script("aeMap.setMode(arguments[0])", mode)
        assert _near(_ring(driver, 3, 0), FLAGGED, tolerance=30) > 10, mode
        assert _near(_ring(driver, 4, 0), FLAGGED, tolerance=30) == 0, mode
    driver.execute_script("aeMap.setMode('label')")
    assert driver.execute_script("return aeMap.hoverText(3)").endswith(
        "\nflagged as a possible label issue (rank 1 of 5)"
    )
    driver.find_element(By.ID, "ae-only-flagged").click()
    assert driver.execute_script("return aeMap.onlyFlagged()")
    assert driver.find_element(By.ID, "ae-status").text.startswith("5 of 600 points shown")
    assert (_colors_around(driver, 4, 3) == 255).all()
    assert not (_colors_around(driver, 3, 3) == 255).all()
    _hover(driver, 4)
    assert _wait_for(driver, "return aeMap.hovered() === -1")
    driver.execute_script("aeMap.selectBox(-100, -100, 100, 100)")
    assert driver.execute_script("return aeMap.selected()") == sorted(ISSUES)
    driver.find_element(By.ID, "ae-only-flagged").click()
    assert driver.find_element(By.ID, "ae-status").text.startswith("600 of 600 points shown")
    assert _errors(driver) == []


def test_hovering_shows_the_row_thumbnail(feature_page):
    from selenium.webdriver.common.by import By

    driver, features = feature_page
    _fresh(driver)
    _hover(driver, 4)
    assert _wait_for(driver, "return aeMap.hovered() === 4")
    thumbnail = driver.find_element(By.CSS_SELECTOR, "#ae-tooltip canvas")
    assert thumbnail.is_displayed()
    assert thumbnail.size == {"width": 96, "height": 96}
    pixels = driver.execute_script(
        "var c = arguments[0]; "
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)",
        thumbnail,
    )
    shown = np.array(pixels).reshape(8, 8, 4)
    # The images hold 0 to 15, so each step of grey is 17 levels.
    expected = features["images"][4] * 17
    for channel in range(3):
        np.testing.assert_array_equal(shown[:, :, channel], expected)
    assert driver.find_element(By.ID, "ae-tooltip").text.startswith("id: img-0004\nrow 4:")
    assert _errors(driver) == []


def test_hundred_thousand_points_with_every_feature_draw_quickly(browser, tmp_path):
    rng = np.random.default_rng(0)
    n_samples = 100_000
    codes = rng.integers(0, 10, n_samples)
    Z = rng.normal(size=(n_samples, 2)) + rng.normal(scale=6, size=(10, 2))[codes]
    predictions = np.where(rng.random(n_samples) < 0.05, (codes + 1) % 10, codes)
    # More columns than the hover text lists.
    columns = {f"value {i}": rng.normal(size=n_samples) for i in range(10)}
    path = export_html(
        Z,
        tmp_path / "large.html",
        codes,
        predictions,
        placed=rng.random(n_samples) < 0.2,
        ids=[f"row-{i}" for i in range(n_samples)],
        columns=columns,
        issues=rng.permutation(n_samples)[:2000],
        images=rng.random((n_samples, 4, 4)),
    )
    browser.get_log("browser")
    _open(browser, path)
    start = time.perf_counter()
    assert browser.execute_script("return aeMap.search('ow-12')") == 1111
    browser.execute_script("aeMap.selectBox(-100, -100, 100, 0); aeMap.setMode('value 3')")
    assert time.perf_counter() - start < 1.0
    start = time.perf_counter()
    browser.execute_script("for (var i = 0; i < 10; i++) aeMap.toggle(255);")
    per_frame = (time.perf_counter() - start) / 10
    # The same bound as with the map's rows alone.
    assert per_frame < 0.25
    assert _pixels(browser)["drawn"] > 10_000
    lines = browser.execute_script("return aeMap.hoverText(0)").split("\n")
    assert [line.split(":")[0] for line in lines[3:11]] == [f"value {i}" for i in range(8)]
    assert "… and 2 more columns" in lines
    assert _errors(browser) == []


def test_rgb_thumbnail_keeps_its_colours(browser, tmp_path):
    images = np.zeros((3, 2, 3, 3), dtype=np.uint8)
    images[1, 0, 0], images[1, 0, 1], images[1, 1, 2] = [255, 0, 0], [0, 255, 0], [0, 0, 255]
    path = export_html(np.eye(3, 2), tmp_path / "map.html", images=images)
    browser.get_log("browser")
    _open(browser, path)
    _hover(browser, 1)
    assert _wait_for(browser, "return aeMap.hovered() === 1")
    thumbnail = browser.execute_script(
        "var c = document.getElementById('ae-thumb'); var box = c.getBoundingClientRect();"
        "return {width: box.width, height: box.height,"
        " pixels: Array.from(c.getContext('2d').getImageData(0, 0, 3, 2).data)}"
    )
    # 3 pixels wide, enlarged 32 times to fit 96 pixels.
    assert (thumbnail["width"], thumbnail["height"]) == (96, 64)
    shown = np.array(thumbnail["pixels"]).reshape(2, 3, 4)
    np.testing.assert_array_equal(shown[:, :, :3], images[1])
    assert _errors(browser) == []


def test_an_id_typed_in_full_finds_that_row_alone(browser, tmp_path):
    path = export_html(
        np.arange(8.0).reshape(4, 2), tmp_path / "map.html", ids=["row-1", "row-12", "row-120", "x"]
    )
    _open(browser, path)
    assert browser.execute_script("return aeMap.search('row-12')") == 1
    assert browser.execute_script("return aeMap.matches()") == [1]
    assert browser.execute_script("return aeMap.search(' ROW-1 ')") == 1
    assert browser.execute_script("return aeMap.matches()") == [0]
    # Text that is no whole id finds every id that holds it.
    assert browser.execute_script("return aeMap.search('ow-1')") == 3


def test_selection_csv_writes_formula_cells_as_text(browser, tmp_path):
    # Last in the file: it opens its own page in the browser that the tests above share.
    # Cells a spreadsheet would run as formulas get a leading apostrophe (OWASP's
    # rule); plain numbers, the coordinates among them, stay numbers.
    ids = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1+2", "-2+3", "\t=1", "\r=1", "-7", "plain"]
    labels = ["=1+1", "-1.5", "+x", "ok", "@a", "b", "=c", "-"]
    Z = np.array([[-1.5, 2.0], [0.5, -0.25]] * 4) + np.arange(8)[:, None]
    path = tmp_path / "formula.html"
    export_html(Z, path, ids=ids, labels=labels)
    browser.get_log("browser")
    _open(browser, path)
    browser.execute_script("aeMap.selectBox(-100, -100, 100, 100)")
    text = browser.execute_script("return aeMap.selectionCsv()")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["id", "x", "y", "label"]
    written = {row[0]: row for row in rows[1:]}
    assert sorted(written) == sorted(
        ["'=cmd|' /C calc'!A0", "'@SUM(1)", "'+1+2", "'-2+3", "'\t=1", "'\r=1", "-7", "plain"]
    )
    assert [written["'" + i if i not in ("-7", "plain") else i][3] for i in ids] == [
        "'=1+1", "-1.5", "'+x", "ok", "'@a", "b", "'=c", "'-"
    ]  # fmt: skip
    # Coordinates are written as numbers, negative ones included.
    coordinates = np.array([[float(row[1]), float(row[2])] for row in rows[1:]])
    assert (coordinates < 0).any()
    assert _errors(browser) == []


# Legend, point style and rings ------------------------------------------------------------


def test_long_legend_names_end_in_an_ellipsis_and_show_whole_on_hover(browser, tmp_path):
    from selenium.webdriver.common.by import By

    long_name = "Peripheral blood mononuclear cells, CD14+ classical monocytes (donor 7)"
    labels = np.where(np.arange(60) % 2 == 0, long_name, "B cells")
    path = export_html(
        np.random.default_rng(0).normal(size=(60, 2)), tmp_path / "m.html", labels=labels
    )
    browser.get_log("browser")
    _open(browser, path)
    name = _legend_item(browser, long_name).find_element(By.CLASS_NAME, "ae-name")
    assert name.get_attribute("title") == long_name
    assert name.text == long_name  # the text is whole; the ellipsis is drawn by CSS
    widths = browser.execute_script(
        "var e = arguments[0], legend = document.getElementById('ae-legend');"
        "return [e.scrollWidth, e.clientWidth, legend.scrollWidth, legend.clientWidth,"
        " getComputedStyle(e).textOverflow]",
        name,
    )
    # The name is cut (wider than its box, drawn with an ellipsis) and the legend does
    # not scroll sideways.
    assert widths[0] > widths[1] > 0
    assert widths[2] <= widths[3]
    assert widths[4] == "ellipsis"
    assert _errors(browser) == []


def test_ringed_rows_keep_their_colour_among_5000_points(browser, tmp_path):
    # Row 7 is the only one of its class, so every pixel of its colour is its own; it
    # is flagged, and its dot is drawn opaque and large inside the ring.
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(5_000, 2))
    Z[7] = [0.0, 0.0]
    classes = np.where(np.arange(5_000) == 7, "lone", "crowd")
    path = export_html(Z, tmp_path / "map.html", labels=classes, issues=[7])
    _open(browser, path)
    colours = _payload(path)["colors"]
    lone = colours[_payload(path)["classes"].index("lone")]
    around = _colors_around(browser, 7, 8).reshape(-1, 3)
    assert (around == _rgb(lone)).all(axis=1).sum() >= 25
    assert _near(_ring(browser, 7, 0), FLAGGED, tolerance=30) > 10
    radii = browser.execute_script("return aeMap.radii()")
    assert radii["marked"] >= max(3.0, radii["map"] + 1)


# Notebooks -------------------------------------------------------------------------------


def test_export_html_returns_a_map_that_behaves_as_its_path(tmp_path):
    import os

    from ae_reduce.plotting import Map

    target = tmp_path / "map.html"
    page = export_html(np.eye(2), target)
    assert isinstance(page, Map)
    assert page == target and target == page and hash(page) == hash(target)
    assert page != str(target)  # as the path returned before: a path is not its text
    assert os.fspath(page) == str(page) == str(target)
    assert Path(page) == target and page.name == "map.html" and page.exists()
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert repr(page) == f"Map({str(target)!r})"
    snippet = page._repr_html_()
    assert snippet.startswith("<iframe ") and 'sandbox="allow-scripts allow-downloads"' in snippet
    assert "allow-same-origin" not in snippet and " src=" not in snippet
    # The page is escaped into the attribute: no tag of it is left in the snippet.
    assert "<script" not in snippet and "&lt;script" in snippet
    target.unlink()
    assert "cannot be read" in page._repr_html_()


def test_notebook_output_draws_the_map_without_the_network(browser, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b", "c"])[np.arange(300) % 3]
    page = export_html(rng.normal(size=(300, 2)), tmp_path / "map.html", labels=labels)
    notebook = tmp_path / "notebook.html"
    notebook.write_text(
        f"<!DOCTYPE html><html><body><p>Out[1]:</p>{page._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    try:
        browser.get_log("browser")
        browser.get(notebook.resolve().as_uri())
        frame = browser.find_element("tag name", "iframe")
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        browser.switch_to.frame(frame)
        assert _wait_for(browser, "return document.body.dataset.ready === 'true'")
        assert browser.execute_script("return aeMap.n") == 300
        assert _pixels(browser)["drawn"] > 300
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        assert _errors(browser) == []
    finally:
        browser.switch_to.default_content()
        browser.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        browser.execute_cdp_cmd("Network.disable", {})


# The command line's maps ----------------------------------------------------------------


@pytest.fixture(scope="module")
def pixel_csv(tmp_path_factory):
    """90 rows of 4x4 pictures in three separated classes, 5 labels swapped, with ids."""
    rng = np.random.default_rng(0)
    codes = np.arange(90) % 3
    centres = rng.uniform(0, 255, size=(3, 16))
    X = np.clip(centres[codes] + rng.normal(scale=12, size=(90, 16)), 0, 255).round()
    names = np.array(["circle", "square", "triangle"])
    labels = names[codes]
    swapped = [4, 17, 40, 61, 83]
    labels[swapped] = names[(codes[swapped] + 1) % 3]
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(16)])
    frame.insert(0, "name", [f"img-{i:03d}" for i in range(90)])
    frame["shape"] = labels
    path = tmp_path_factory.mktemp("pixels") / "pixels.csv"
    frame.to_csv(path, index=False)
    return path, X


def _thumbnail(driver):
    return driver.execute_script(
        "var c = document.querySelector('#ae-tooltip canvas'); if (c.hidden) return null;"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    )


def test_embed_html_with_image_shape_shows_thumbnails(pixel_csv, browser, tmp_path):
    from ae_reduce._cli import main

    path, X = pixel_csv
    arguments = ["embed", str(path), "-o", str(tmp_path / "z.csv"), "--html"]
    status = main(
        [
            *arguments,
            str(tmp_path / "map.html"),
            "--label-column",
            "shape",
            "--id-column",
            "name",
            "--image-shape",
            "4x4",
            "--epochs",
            "1",
            "--random-state",
            "0",
            "-q",
        ]
    )
    assert status == 0
    payload = _payload(tmp_path / "map.html")
    assert payload["imageShape"] == [4, 4, 1]
    _open(browser, tmp_path / "map.html")
    _hover(browser, 5)
    assert _wait_for(browser, "return aeMap.hovered() === 5")
    shown = np.array(_thumbnail(browser)).reshape(4, 4, 4)
    # The pixels are scaled from the smallest value of the file to the largest.
    expected = np.rint((X[5] - X.min()) / (X.max() - X.min()) * 255).reshape(4, 4)
    np.testing.assert_array_equal(shown[:, :, 0], expected)
    assert browser.find_element("id", "ae-tooltip").text.startswith("id: img-005")
    assert _errors(browser) == []


def test_issues_html_rings_the_flagged_rows_with_their_suggested_label(
    pixel_csv, browser, tmp_path
):
    import pandas as pd

    from ae_reduce._cli import main

    path, _ = pixel_csv
    status = main(
        [
            "issues",
            str(path),
            "-o",
            str(tmp_path / "issues.csv"),
            "--html",
            str(tmp_path / "issues.html"),
            "--label-column",
            "shape",
            "--id-column",
            "name",
            "--image-shape",
            "4x4",
            "--cv",
            "3",
            "--epochs",
            "30",
            "--random-state",
            "0",
            "-q",
        ]
    )
    assert status == 0
    table = pd.read_csv(tmp_path / "issues.csv")
    assert len(table) >= 1
    _open(browser, tmp_path / "issues.html")
    assert browser.execute_script("return aeMap.flaggedCount") == len(table)
    first = int(table["row"][0])
    assert browser.execute_script("return aeMap.isFlagged(arguments[0])", first)
    assert _near(_ring(browser, first, 0), FLAGGED, tolerance=30) > 10
    text = browser.execute_script("return aeMap.hoverText(arguments[0])", first)
    assert f"given label: {table['given_label'][0]}" in text
    assert f"suggested label: {table['suggested_label'][0]}" in text
    assert text.endswith(f"flagged as a possible label issue (rank 1 of {len(table)})")
    assert browser.execute_script("return aeMap.modes()")[:3] == [
        "label",
        "prediction",
        "agreement",
    ]
    _hover(browser, first)
    assert _wait_for(browser, f"return aeMap.hovered() === {first}")
    assert _thumbnail(browser) is not None
    assert _errors(browser) == []


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("28", "expects HEIGHTxWIDTH or HEIGHTxWIDTHxCHANNELS"),
        ("28x", "expects HEIGHTxWIDTH or HEIGHTxWIDTHxCHANNELS"),
        ("0x28", "the height and the width must be at least 1"),
        ("4x4x2", r"the channels must be 1 \(grey\) or 3"),
        ("4x5", "makes 20 values per row, but .* has 16 feature columns"),
        ("2x2x3", "makes 12 values per row"),
    ],
)
def test_image_shape_is_checked_before_training(shape, message, pixel_csv, tmp_path, capsys):
    from ae_reduce._cli import main

    path, _ = pixel_csv
    for command in ("embed", "issues"):
        status = main(
            [
                command,
                str(path),
                "-o",
                str(tmp_path / "out.csv"),
                "--html",
                str(tmp_path / "map.html"),
                "--label-column",
                "shape",
                "--id-column",
                "name",
                "--image-shape",
                shape,
            ]
        )
        error = capsys.readouterr().err
        assert status == 2
        assert len(error.splitlines()) == 1 and re.search(message, error), error
    assert not (tmp_path / "map.html").exists()


def test_image_shape_without_html_and_a_bad_issues_map_are_refused(pixel_csv, tmp_path, capsys):
    from ae_reduce._cli import main

    path, _ = pixel_csv
    for command in ("embed", "issues"):
        status = main(
            [
                command,
                str(path),
                "-o",
                str(tmp_path / "z.csv"),
                "--label-column",
                "shape",
                "--image-shape",
                "4x4",
            ]
        )
        assert status == 2
        assert capsys.readouterr().err.strip() == (
            f"ae-reduce {command}: error: --image-shape draws the rows' pictures on the "
            "--html map; add --html map.html"
        )
    issues = ["issues", str(path), "--label-column", "shape", "-o", str(tmp_path / "i.csv")]
    assert main([*issues, "--html", str(tmp_path / "map.png")]) == 2
    assert "--html" in capsys.readouterr().err
    assert not (tmp_path / "i.csv").exists()
