"""The playground in a real browser: Debian's chromium, headless, driven by Playwright.

One server (auth on, a streaming, a sleeping and a many-inputs fixture model) and one
browser for the module. Screenshots go to tests/artifacts/web/.
"""

from __future__ import annotations

import pathlib
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.server import Server, fixture_model, free_port, start_server

if TYPE_CHECKING:  # at run time the module may be missing: then the tests skip
    from playwright.sync_api import Browser, FilePayload, Page

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = pathlib.Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (scripts/install --dev)", allow_module_level=True
    )

#: without the background-networking flags chromium dials out, which this network refuses
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = pathlib.Path(__file__).parents[1] / "artifacts" / "web"
RECEIVER = pathlib.Path(__file__).parents[1] / "webhook_receiver.py"
TIMEOUT_MS = 20_000
#: assertions wait as long as actions (expect's own default is 5 s: too short on a busy CI box)
playwright_api.expect.set_options(timeout=TIMEOUT_MS)


def png(width: int, height: int) -> bytes:
    """A small valid PNG (solid teal), without an imaging library."""
    row = b"\x00" + bytes((0, 128, 128)) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def upload(name: str, mime: str, body: bytes) -> FilePayload:
    """A file for set_input_files, given from memory."""
    return {"name": name, "mimeType": mime, "buffer": body}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web")
    models = [
        f"acme/stream={fixture_model(tmp, 'stream_tokens')}",
        f"acme/sleep={fixture_model(tmp, 'sleep')}",
        f"acme/inputs={fixture_model(tmp, 'schema_inputs')}",
        f"acme/echo-file={fixture_model(tmp, 'echo_file')}",
        f"acme/lists={fixture_model(tmp, 'schema_lists')}",
        "foretell/hello",
    ]
    server = start_server(tmp / "data", models, "--allow-private-urls")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port, log = free_port(), tmp_path_factory.mktemp("hooks") / "hooks.jsonl"
    process = subprocess.Popen([sys.executable, str(RECEIVER), str(port), str(log)])
    yield f"http://127.0.0.1:{port}/hook"
    process.terminate()
    process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    driver = playwright_api.sync_playwright().start()
    browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield browser
    browser.close()
    driver.stop()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh tab (its own session storage), signed in with the server's first token."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    visit(page, server.url + "/")
    page.get_by_label("API token", exact=True).fill(server.token)
    page.get_by_role("button", name="Sign in", exact=True).last.click()
    playwright_api.expect(page.locator("#account-name")).to_contain_text("Signed in as")
    yield page
    context.close()
    assert script_errors == [], "the page's script threw"


def visit(page: Page, url: str) -> None:
    """Open a page and wait until its script is set up (under load it lags the load event)."""
    page.goto(url)
    page.locator("body[data-ready]").wait_for()


def shot(page: Page, name: str, full_page: bool = True) -> pathlib.Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path


def test_asks_for_a_token_once_and_rejects_a_wrong_one(browser: Browser, server: Server) -> None:
    """A new tab asks for a token, says so when it is wrong, and keeps a right one across pages."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    visit(page, server.url + "/")
    dialog = page.locator("#token-dialog")
    playwright_api.expect(dialog).to_be_visible()
    playwright_api.expect(page.get_by_label("API token", exact=True)).to_be_focused()
    page.get_by_label("API token", exact=True).fill("r8_wrong")
    page.keyboard.press("Enter")
    playwright_api.expect(page.locator("#token-error")).to_contain_text("does not know that token")
    page.get_by_label("API token", exact=True).fill(server.token)
    page.keyboard.press("Enter")
    playwright_api.expect(dialog).to_be_hidden()
    visit(page, server.url + "/p")
    playwright_api.expect(page.locator("#token-dialog")).to_be_hidden()
    playwright_api.expect(page.locator("#account-name")).to_contain_text("Signed in as")
    context.close()


def test_model_list_filters_as_you_type(page: Page) -> None:
    """Typing in the search box leaves only the matching models listed."""
    page.get_by_label("Search models").fill("hello")
    playwright_api.expect(page.locator(".model-card:visible")).to_have_count(1)
    playwright_api.expect(page.locator("#search-count")).to_have_text("1 model")
    page.locator(".model-card:visible a").click()
    playwright_api.expect(page).to_have_url(
        page.url.split("/", 3)[0] + "//" + page.url.split("/")[2] + "/foretell/hello"
    )


def test_form_with_every_input_kind_uploads_a_file_and_runs(page: Page, server: Server) -> None:
    """The form is generated from the schema; a chosen image is previewed, uploaded and run."""
    visit(page, server.url + "/acme/inputs")
    playwright_api.expect(page.get_by_label("Count", exact=True)).to_have_value("5")
    playwright_api.expect(page.get_by_label("Count slider")).to_have_attribute("max", "100")
    playwright_api.expect(page.get_by_label("Mode")).to_have_value('"fast"')
    assert page.get_by_label("Api Key").get_attribute("type") == "password"
    assert page.get_by_label("Flag").get_attribute("type") == "checkbox"
    ids = page.eval_on_selector_all("[id]", "all => all.map((e) => e.id)")
    assert len(ids) == len(set(ids)), "every id on the page is unique"
    page.get_by_label("Text", exact=True).fill("from the browser")
    page.get_by_label("Api Key").fill("s3cret")
    page.get_by_label("Level").select_option(label="3")
    page.get_by_label("Flag").check()
    page.get_by_label("Count slider").fill("42")
    playwright_api.expect(page.get_by_label("Count", exact=True)).to_have_value("42")
    page.get_by_label("Image", exact=True).set_input_files(
        files=[upload("teal.png", "image/png", png(64, 48))]
    )
    playwright_api.expect(page.locator("#in-image-preview img")).to_be_visible()
    playwright_api.expect(page.locator("#snippet-python")).to_contain_text('"count": 42')
    page.get_by_role("button", name="Run").click()
    run = page.locator("#run")
    playwright_api.expect(run.locator('[data-role="status"]')).to_have_text("succeeded")
    playwright_api.expect(run.locator('[data-role="output"]')).to_have_text("from the browser")
    shot(page, "form-run")
    with server.client() as http:
        latest = http.get("/v1/predictions").json()["results"][0]
    assert latest["input"]["count"] == 42 and latest["input"]["level"] == 3
    assert latest["input"]["flag"] is True
    assert "seed" not in latest["input"]  # an empty optional box is left out
    assert latest["input"]["api_key"] == "**********"
    assert "/v1/files/" in latest["input"]["image"]


def wav(seconds: float = 0.2, rate: int = 8000) -> bytes:
    """A silent mono 16-bit WAV."""
    data = b"\x00\x00" * int(seconds * rate)
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16,
                         1, 1, rate, rate * 2, 2, 16, b"data", len(data))  # fmt: skip
    return header + data


def test_file_outputs_show_as_image_and_audio(page: Page, server: Server) -> None:
    """An image output is shown and an audio output gets a player, each with a download link."""
    visit(page, server.url + "/acme/echo-file")
    for name, mime, body, tag in [
        ("teal.png", "image/png", png(32, 32), "img"),
        ("quiet.wav", "audio/wav", wav(), "audio"),
    ]:
        page.get_by_label("File", exact=True).set_input_files(files=[upload(name, mime, body)])
        playwright_api.expect(page.locator(f"#in-file-preview {tag}")).to_have_count(1)
        page.get_by_role("button", name="Run").click()
        output = page.locator('#run [data-role="output"]')
        playwright_api.expect(output.locator(tag)).to_have_count(1)
        playwright_api.expect(page.locator('#run [data-role="status"]')).to_have_text("succeeded")
        link = output.get_by_role("link", name=f"Download echo{name[name.index('.') :]}")
        assert "/v1/outputs/" in (link.get_attribute("href") or "")
    width = page.evaluate("document.querySelector('#run [data-role=output] img')?.naturalWidth")
    assert width in (None, 32)


def test_lists_take_lines_and_several_files(page: Page, server: Server) -> None:
    """List inputs take one item per line (typed by the schema) and several files at once."""
    visit(page, server.url + "/acme/lists")
    playwright_api.expect(page.get_by_label("Numbers", exact=True)).to_have_value("1\n2")
    page.get_by_label("Words", exact=True).fill("alpha\nbeta\n\ngamma")
    page.get_by_label("Numbers", exact=True).fill("3\n4")
    page.get_by_label("Images", exact=True).set_input_files(
        files=[upload(f"{i}.png", "image/png", png(4 + i, 4)) for i in range(2)]
    )
    playwright_api.expect(page.locator("#in-images-preview img")).to_have_count(2)
    page.get_by_label("or URLs, one per line").last.fill("data:text/plain;base64,aGk=")
    page.get_by_role("button", name="Run").click()
    playwright_api.expect(page.locator('#run [data-role="status"]')).to_have_text("succeeded")
    playwright_api.expect(page.locator('#run [data-role="output"] li')).to_have_text(
        ["alpha", "beta", "gamma"]
    )
    with server.client() as http:
        latest = http.get("/v1/predictions").json()["results"][0]
    assert latest["input"]["numbers"] == [3, 4] and len(latest["input"]["images"]) == 2
    assert latest["input"]["docs"] == ["data:text/plain;base64,aGk="]


def test_a_bad_value_is_shown_at_its_field(page: Page, server: Server) -> None:
    """A missing file or a value the schema refuses is marked on its field, with the reason,
    and focused: checked in the page first, and by the server's 422 where the page can't."""
    visit(page, server.url + "/acme/inputs")
    page.get_by_label("Text", exact=True).fill("x")
    page.get_by_label("Api Key").fill("k")
    page.get_by_role("button", name="Run").click()
    playwright_api.expect(page.locator("#in-image-error")).to_have_text(
        "Choose a file or give its URL."
    )
    page.get_by_label("Image", exact=True).set_input_files(
        files=[upload("a.png", "image/png", png(2, 2))]
    )
    count = page.get_by_label("Count", exact=True)
    count.fill("500")
    page.get_by_role("button", name="Run").click()
    playwright_api.expect(count).to_have_attribute("aria-invalid", "true")
    playwright_api.expect(count).to_be_focused()
    playwright_api.expect(page.locator("#in-count-error")).to_be_visible()
    page.eval_on_selector("#in-count", "e => e.removeAttribute('max')")  # let the server judge
    page.get_by_role("button", name="Run").click()
    playwright_api.expect(page.locator("#in-count-error")).to_contain_text("100")
    playwright_api.expect(count).to_be_focused()
    playwright_api.expect(page.locator("#run")).to_be_hidden()


def test_streaming_output_appears_token_by_token(page: Page, server: Server) -> None:
    """A streaming model's tokens show up while it is still running, then the run succeeds."""
    visit(page, server.url + "/acme/stream")
    page.get_by_label("N", exact=True).fill("12")
    page.get_by_label("Delay", exact=True).fill("0.15")
    page.get_by_role("button", name="Run").click()
    output = page.locator('#run [data-role="output"]')
    status = page.locator('#run [data-role="status"]')
    playwright_api.expect(output).to_contain_text("tok2")
    seen_while_running = output.inner_text()
    assert status.inner_text() != "succeeded" and "tok11" not in seen_while_running
    playwright_api.expect(status).to_have_text("succeeded")
    assert output.inner_text().strip() == " ".join(f"tok{i}" for i in range(12))


def test_cancel_stops_a_running_prediction(page: Page, server: Server) -> None:
    """Cancel on a running prediction ends it as canceled, and Run works again."""
    visit(page, server.url + "/acme/sleep")
    page.get_by_label("Seconds").fill("30")
    page.get_by_role("button", name="Run").click()
    cancel = page.locator('#run [data-role="cancel"]')
    playwright_api.expect(cancel).to_be_visible()
    playwright_api.expect(page.locator('#run [data-role="logs"]')).to_contain_text("going to sleep")
    started = time.monotonic()
    cancel.click()
    playwright_api.expect(page.locator('#run [data-role="status"]')).to_have_text("canceled")
    assert time.monotonic() - started < 10
    playwright_api.expect(page.get_by_role("button", name="Run")).to_be_enabled()


def test_prediction_page_shows_everything_about_a_run(
    page: Page, server: Server, receiver: str
) -> None:
    """urls.web shows input, output, logs, metrics, timings and the webhook deliveries."""
    visit(page, server.url + "/foretell/hello")
    page.get_by_label("Name", exact=True).fill("Ada")
    page.get_by_label("Delay", exact=True).fill("0")
    page.locator("summary", has_text="Webhook").click()
    page.get_by_label("Webhook URL").fill(receiver)
    page.get_by_role("button", name="Run").click()
    playwright_api.expect(page.locator('#run [data-role="status"]')).to_have_text("succeeded")
    page.get_by_role("link", name="Open this prediction’s page").click()
    playwright_api.expect(page.locator('[data-role="status"]')).to_have_text("succeeded")
    playwright_api.expect(page.locator('[data-role="output"]')).to_contain_text("Bonjour Ada!")
    playwright_api.expect(page.locator("#prediction-input")).to_contain_text('"name": "Ada"')
    playwright_api.expect(page.locator("#prediction-timings")).to_contain_text("predict_time")
    deliveries = page.locator("#webhook-deliveries tbody")
    for _ in range(50):  # deliveries finish after the prediction: reload until they show
        if "completed" in deliveries.inner_text():
            break
        page.reload()
        playwright_api.expect(page.locator('[data-role="status"]')).to_have_text("succeeded")
    playwright_api.expect(deliveries).to_contain_text("completed")
    shot(page, "prediction-page")


def test_history_lists_runs_and_never_another_accounts(page: Page, server: Server) -> None:
    """Your history links to your predictions; another account's prediction page stays empty."""
    other = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir", str(server.data_dir),
         "--account", "mallory"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip
    with server.client(other) as http:
        theirs = http.post(
            "/v1/models/foretell/hello/predictions",
            json={"input": {"name": "Secret Mallory", "delay": 0}},
            headers={"Prefer": "wait"},
        ).json()
    visit(page, server.url + "/p")
    playwright_api.expect(page.locator("#history tbody tr").first).to_be_visible()
    assert "Secret Mallory" not in page.content() and theirs["id"] not in page.content()
    visit(page, server.url + f"/p/{theirs['id']}")
    playwright_api.expect(page.locator('[data-role="status"]')).to_have_text(
        "not found (or not yours)"
    )
    assert "Secret Mallory" not in page.content()


def test_readable_on_a_phone_and_usable_by_keyboard(page: Page, server: Server) -> None:
    """On a 375 px screen nothing scrolls sideways; Tab starts at the skip link, then the menu."""
    page.set_viewport_size({"width": 375, "height": 800})
    visit(page, server.url + "/foretell/hello")
    page.locator("#run-form").wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"
    page.get_by_label("Name", exact=True).fill("Grace")
    page.get_by_label("Delay", exact=True).fill("0.05")
    page.get_by_role("button", name="Run").click()
    playwright_api.expect(page.locator('#run [data-role="status"]')).to_have_text("succeeded")
    shot(page, "model-page-phone")
    page.set_viewport_size({"width": 1200, "height": 900})
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "model-page", full_page=False)  # the README's docs/playground.png
    visit(page, server.url + "/foretell/hello")
    page.keyboard.press("Tab")
    playwright_api.expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    playwright_api.expect(page.get_by_role("link", name="foretell", exact=True)).to_be_focused()
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('#run-form input, #run-form select, #run-form textarea')]
             .filter((e) => !e.labels?.length && !e.getAttribute('aria-label')).map((e) => e.id)"""
    )
    assert unlabelled == []
