"""The interactive HTML map: the file it writes, and the page in a headless Chromium."""

import base64
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from ae_reduce import export_html

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
    path = export_html(np.eye(2), tmp_path / "map.html", hover=hover, title="</title><i>x")
    text = path.read_text(encoding="utf-8")
    assert "alert(1)</script>" not in text
    assert "<i>x" not in text
    assert _payload(path)["hover"] == hover


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


@pytest.mark.parametrize("n_points", [1, 30, 10_000, 1_000_000])
def test_points_are_as_opaque_as_in_the_pictures(n_points, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ae_reduce import plot_embedding

    Z = np.random.default_rng(0).normal(size=(n_points, 2))
    ax = plot_embedding(Z)
    plt.close(ax.figure)
    assert _payload(export_html(Z, tmp_path / "map.html"))["alpha"] == ax.collections[0].get_alpha()


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
