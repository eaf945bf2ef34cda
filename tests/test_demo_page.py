"""The demo page in a real browser (headless Chromium via selenium) against a real running server."""

import os
import shutil

import numpy as np
import pytest
from test_server_helpers import TRAINED_TASK, loaded_model, saved_model_dir, thread_server

from mtst.server import ServerSettings, create_app

KEY = "page-key"
TEXTS = ["Earn 500 bonus points on any Tide purchase", "huggies size 4", "My points never showed up"]
FLAGS = [
    "--headless",
    "--no-sandbox",  # Chromium refuses to run as root with its sandbox
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1600",
]


def browser_paths() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = "chromium and chromium-driver are not installed; `make browser` installs them"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)  # CI must run this test, not quietly skip it
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = browser_paths()
    options = Options()
    options.binary_location = chromium
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    # The driver is named outright so selenium never tries to download one.
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_model_dir(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def url(model_dir):
    app = create_app(ServerSettings(model=model_dir, api_key=KEY), model=loaded_model(model_dir))
    with thread_server(app) as base:
        yield base


def wait_for(browser, css: str, timeout: float = 30):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    present = expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    return WebDriverWait(browser, timeout).until(present)


def fill_and_run(browser, url: str, texts: list[str], key: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(url)
    area = browser.find_element(By.ID, "texts")
    area.clear()
    area.send_keys("\n".join(texts))
    key_box = browser.find_element(By.ID, "api-key")
    key_box.clear()
    if key:
        key_box.send_keys(key)
    browser.find_element(By.ID, "run").click()


def test_without_the_key_the_page_asks_for_it(browser, url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    fill_and_run(browser, url, TEXTS, key="")
    status = wait_for(browser, "#status.error")
    WebDriverWait(browser, 30).until(lambda b: "401" in status.text)
    assert "API key" in status.text
    assert browser.find_elements(By.CSS_SELECTOR, ".text-result") == []


def test_typed_texts_get_every_heads_bars_and_a_similarity_table(browser, url, model_dir):
    from selenium.webdriver.common.by import By

    model = loaded_model(model_dir)
    fill_and_run(browser, url, TEXTS, key=KEY)
    table = wait_for(browser, "#similarity-table")

    cards = browser.find_elements(By.CSS_SELECTOR, ".text-result")
    assert len(cards) == len(TEXTS)
    expected = model.predict(TEXTS)
    for card, text, want in zip(cards, TEXTS, expected, strict=True):
        assert text in card.find_element(By.TAG_NAME, "h3").text
        tasks = card.find_elements(By.CSS_SELECTOR, ".task")
        assert [t.get_attribute("data-task") for t in tasks] == list(model.tasks)
        for task in tasks:
            name = task.get_attribute("data-task")
            rows = task.find_elements(By.CSS_SELECTOR, ".bar-row")
            assert [r.get_attribute("data-label") for r in rows] == list(model.tasks[name].labels)
            assert len(task.find_elements(By.CSS_SELECTOR, ".bar")) == len(rows)
            best = task.find_element(By.CSS_SELECTOR, ".bar-row.best").get_attribute("data-label")
            assert best == want[name].label
            assert task.find_element(By.CSS_SELECTOR, ".task-label").text.startswith(want[name].label)
            untrained = task.find_elements(By.CSS_SELECTOR, ".badge.untrained")
            assert bool(untrained) is (name != TRAINED_TASK)

    cells = table.find_elements(By.CSS_SELECTOR, "td.sim")
    assert len(cells) == len(TEXTS) ** 2
    shown = np.array([float(c.text) for c in cells]).reshape(len(TEXTS), len(TEXTS))
    vectors = model.encoder.encode(TEXTS)
    np.testing.assert_allclose(shown, vectors @ vectors.T, atol=1e-3)
    assert "untrained" in browser.find_element(By.ID, "status").text.lower()


def test_saying_what_the_texts_are_shows_heads_that_do_not_apply(browser, url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(url)
    assert browser.find_element(By.ID, "kind-box").is_displayed()  # shown until /info says there is no text_kind
    Select(browser.find_element(By.ID, "text-kind")).select_by_visible_text("search query")
    area = browser.find_element(By.ID, "texts")
    area.clear()
    area.send_keys("huggies size 4")
    key_box = browser.find_element(By.ID, "api-key")
    key_box.clear()
    key_box.send_keys(KEY)
    browser.find_element(By.ID, "run").click()
    wait_for(browser, "#similarity-table")
    tasks = {t.get_attribute("data-task"): t for t in browser.find_elements(By.CSS_SELECTOR, ".task")}
    for name in ("sentence_type", "receipt_quality"):
        assert "not-applicable" in tasks[name].get_attribute("class")
        assert tasks[name].find_element(By.CSS_SELECTOR, ".task-label").text == "not applicable"
        assert len(tasks[name].find_elements(By.CSS_SELECTOR, ".bar-row")) == len(loaded_model_labels(name))
    assert tasks["text_kind"].find_element(By.CSS_SELECTOR, ".task-label").text.startswith("search_query")
    assert tasks["text_kind"].find_elements(By.CSS_SELECTOR, ".badge.given")
    assert "not-applicable" not in tasks["query_intent"].get_attribute("class")


def loaded_model_labels(name: str) -> tuple[str, ...]:
    from mtst.tasks import DEFAULT_TASKS

    return {t.name: t.labels for t in DEFAULT_TASKS}[name]
