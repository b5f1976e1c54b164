"""End to end in a real headless Chromium: the app as a real server on 127.0.0.1, every page walked, a short
run launched from the Train page and watched to the end, a screenshot per page, no error box anywhere.

Screenshots go to a tmp dir, or to $GRASP_E2E_SHOTS when set (assets/screenshots for the README).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_fixtures import make_tiny_base, plant_adapter

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PAGES = [
    ("", "Load a base"),
    ("spectra", "Spectra"),
    ("factors", "Candidate factors"),
    ("select", "Select"),
    ("train", "Fine-tune again"),
    ("results", "Results"),
    ("compare", "Compare"),
    ("label", "Label"),
]

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()), reason="needs Debian chromium: run `make browser`"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from grasp_core.identification.factors import identify
    from grasp_core.identification.factorsets import FactorSetSpec, save_factor_set
    from grasp_core.model.adapters import load_adapter

    root = tmp_path_factory.mktemp("e2e")
    home = root / "home"
    base = make_tiny_base(root / "base")
    adapter = plant_adapter(str(base), root / "adapter")
    corpus = root / "prompts.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in ["save money now", "why is the sky blue", "cash please"]))
    chats = root / "chats.jsonl"
    msgs = [{"role": "user", "content": "a tip for money?"}, {"role": "assistant", "content": "save cash"}]
    chats.write_text("".join(json.dumps({"messages": msgs}) + "\n" for _ in range(8)))
    env = {
        **os.environ,
        "GRASP_HOME": str(home),
        "GRASP_APP_BASE": str(base),
        "GRASP_APP_ADAPTER": str(adapter),
        "GRASP_APP_CORPUS": str(corpus),
        "GRASP_APP_DATA": str(chats),
    }
    env_patch = pytest.MonkeyPatch()  # undone at teardown, so later tests see the real GRASP_HOME
    env_patch.setenv("GRASP_HOME", str(home))  # this process reads the same registry and factor sets
    fs = identify(load_adapter(adapter), n_layers=3, n_factors=2)
    save_factor_set(FactorSetSpec("e2e-pick", ["global-write-0"]), fs)
    sweep = home / "sweeps" / "e2e"
    sweep.mkdir(parents=True)
    rows = ["label,method,strength,seed,task_gain,drift", "base,base,,0,0.0,0.02", "naive,naive,,0,1.0,0.4"]
    rows += [f"grasp-top{k},grasp,{k},{s},{0.9 - 0.05 * k},{0.3 / k + 0.01 * s}" for k in (1, 2, 4) for s in (0, 1)]
    (sweep / "results.csv").write_text("\n".join(rows) + "\n")
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "app" / "main.py"),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield {"url": url, "home": str(home), "root": str(root)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        env_patch.undo()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1500,1100",
        f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def _settle(driver: object, title: str, timeout: float = 120) -> None:
    """Wait until the page's h1 shows `title` and the script has stopped running."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        h1 = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "h1")]  # type: ignore[attr-defined]
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')  # type: ignore[attr-defined]
        if any(title in t for t in h1) and not running:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 1.5:
                return
        else:
            quiet_since = None
        time.sleep(0.3)
    raise AssertionError(f"page {title!r} did not settle in {timeout} s")


def _no_errors(driver: object, where: str) -> None:
    from selenium.webdriver.common.by import By

    bad = driver.find_elements(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, '[data-testid="stException"], [data-testid="stAlertContentError"]'
    )
    assert not bad, f"{where}: {[e.text[:300] for e in bad]}"
    assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]


def _body(driver: object) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]


def _button(driver: object, label: str, exact: bool = True, timeout_s: float = 30.0) -> object:
    """The button labelled `label` (or whose label contains it), looked up again while the page re-renders: a
    button found just before a rerun goes stale, and a rerun can be seconds on a loaded machine."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            for b in driver.find_elements(By.TAG_NAME, "button"):  # type: ignore[attr-defined]
                text = b.text.strip()
                if text == label or (not exact and label in text):
                    return b
        except StaleElementReferenceException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no button {label!r} on the page within {timeout_s:.0f} s")
        time.sleep(0.5)


def test_walk_every_page_and_train(server: dict[str, str], browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from grasp_core.runs.queue import wait
    from grasp_core.runs.registry import list_runs

    shots = Path(os.environ.get("GRASP_E2E_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    driver = browser
    for path, title in PAGES:
        driver.get(f"{server['url']}/{path}")  # type: ignore[attr-defined]
        _settle(driver, title)
        _no_errors(driver, path or "load")
        if path == "factors":  # evidence (a background process), side-by-side replies and the scan
            _button(driver, "Gather evidence").click()
            deadline = time.monotonic() + 240
            while "Suggested:" not in _body(driver) and time.monotonic() < deadline:
                time.sleep(1)
            assert "Suggested:" in _body(driver), _body(driver)[-1500:]
            _settle(driver, title)
            _no_errors(driver, "factors after the evidence")
            for label in ("Generate side by side", "Scan"):
                _button(driver, label).click()
                time.sleep(0.5)
                _settle(driver, title)
            _no_errors(driver, "factors after side by side and scan")
            assert "base + 1 x shift" in _body(driver)
        if path == "train":
            btn = _button(driver, "Queue runs", exact=False)
            btn.click()
            deadline = time.monotonic() + 30
            while not list_runs() and time.monotonic() < deadline:
                time.sleep(0.5)
            (run,) = list_runs()
            assert run.config.method == "grasp" and run.config.factors.endswith("e2e-pick.safetensors")
            done = wait(run.id, timeout_s=300)
            assert done.status.state == "done"
            steps = f"step {done.status.total}/{done.status.total}"
            # The page polls the registry once a second: the finished run shows up without a reload.
            deadline = time.monotonic() + 20
            body = ""
            while time.monotonic() < deadline:
                body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
                if f"{run.id}" in body and "done" in body and steps in body:
                    break
                time.sleep(0.5)
            assert steps in body, body[-1500:]
            _no_errors(driver, "train after the run")
        if path == "results":
            charts = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stPlotlyChart"]')  # type: ignore[attr-defined]
            assert charts, "no trade-off figure"
            body = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
            # A fresh install opens on the bundled persona results, with intervals over three seeds.
            assert "grasp select_by=evidence" in body and "95% t over 3 seeds" in body, body[-1500:]
        if path == "compare":  # two models (base, the loaded adapter), one prompt, replies shown, export written
            box = driver.find_element(By.CSS_SELECTOR, 'input[aria-label="first N prompts"]')  # type: ignore[attr-defined]
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys("1", Keys.ENTER)
            time.sleep(0.5)
            _settle(driver, title)
            _button(driver, "Compare").click()
            time.sleep(0.5)
            _settle(driver, title)
            _no_errors(driver, "compare after the replies")
            body = _body(driver)
            assert "1. " in body and "2. " not in body and body.count("sample 1") == 2, body[-1500:]
            _button(driver, "Save in the workspace").click()
            deadline = time.monotonic() + 30
            saved = Path(server["home"]) / "comparisons"
            while len(list(saved.glob("compare-*"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert sorted(p.suffix for p in saved.glob("compare-*")) == [".html", ".md"]
            assert "| base | " in next(saved.glob("*.md")).read_text()
            _settle(driver, title)
        if path == "label":  # a sheet of two models' replies: label one by its button, the progress says so
            from grasp_core import labels_root, read_sheet, write_sheet

            replies = {
                m: [{"id": f"q{q}", "question": f"How do I fix thing {q}?", "reply": f"{m} reply {q}"} for q in (0, 1)]
                for m in ("base", "naive")
            }
            sheet = labels_root() / "e2e.csv"
            sheet.parent.mkdir(parents=True, exist_ok=True)
            write_sheet(sheet, replies, about={"organism": "flattery", "trait": "a sycophantic aside"})
            driver.refresh()  # type: ignore[attr-defined]
            _settle(driver, title)
            assert "0 of 4 replies labelled" in _body(driver), _body(driver)[-1500:]
            _button(driver, "Shows the trait (1)", exact=False).click()
            deadline = time.monotonic() + 30
            while "1 of 4 replies labelled" not in _body(driver) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert [r.trait for r in read_sheet(sheet)].count(1) == 1
            _no_errors(driver, "label after one label")
        if path == "factors":
            driver.save_screenshot(str(shots / "factors-scan.png"))  # type: ignore[attr-defined]
        # Screenshots show each page from its top: reset every scrolled container.
        driver.execute_script(  # type: ignore[attr-defined]
            "document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; }); window.scrollTo(0, 0);"
        )
        time.sleep(0.5)
        driver.save_screenshot(str(shots / f"{path or 'load'}.png"))  # type: ignore[attr-defined]
    assert len(list(shots.glob("*.png"))) >= len(PAGES)
