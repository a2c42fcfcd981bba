"""The built book in a real browser (headless Chromium through Playwright), offline.

The book is built strictly from the committed notebook outputs into a temporary
directory (once: the build's own checks, glued numbers, figures, bibliography, MathJax
served locally, launch links and static explorer figures, are the first test here) and
served on 127.0.0.1; every request to any other host is aborted. Each
page that _toc.yml names is opened as a reader's first visit and must show no console
errors, no page errors and no failed or non-local requests; its images must load, its
math must be typeset by the MathJax the book serves itself, its glued numbers must be
filled in, and a notebook page must offer Binder and Colab buttons for its own
notebook. Full-page screenshots of a few pages go to _build/screenshots/ for a person
to look at.

Chromium is Debian's (`.ci/run` installs it); OVERPARAM_CHROMIUM points elsewhere.
"""

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from overparam_lib.book.build import book_notebooks, build_html
from overparam_lib.book.launch import repository

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("OVERPARAM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "_build" / "screenshots"
SCREENSHOT_PAGES = {"book/intro", "book/double_descent", "notebooks/ridgeless_least_squares"}
MANY_FORMULAS = {"book/double_descent": 50}  # pages that must show at least this many typeset formulas
ARTICLE = "article.bd-article"  # sphinx-book-theme's main content
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def toc_pages() -> list[str]:
    """Every document _toc.yml names, root first, without suffix (`book/intro`)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [re.sub(r"\.(md|ipynb)$", "", p) for p in pages]


PAGES = toc_pages()


def source_of(page: str) -> tuple[Path, str]:
    """The page's source file and its prose (the markdown cells, for a notebook)."""
    path = next((p for p in (ROOT / f"{page}.md", ROOT / f"{page}.ipynb") if p.is_file()), None)
    assert path, f"_toc.yml names {page}, but there is no {page}.md or {page}.ipynb"
    if path.suffix == ".md":
        return path, path.read_text()
    nb = json.loads(path.read_text())
    return path, "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def has_figure(page: str) -> bool:
    path, prose = source_of(page)
    if re.search(r"```\{(figure|image)\}|!\[|\{glue:figure\}", prose):
        return True
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
        return any({"image/png", "image/svg+xml"} & set(o.get("data", {})) for o in outputs)
    return False


def has_math(page: str) -> bool:
    _, prose = source_of(page)
    prose = re.sub(r"```.*?```|`[^`\n]*`", "", prose, flags=re.DOTALL)  # code is not math
    return bool(re.search(r"\$[^$\s][^$]*\$|\$\$|\\\(|\\\[|\\begin\{", prose))


def test_page_classification_matches_the_book():
    # guards the per-page checks below against silently checking nothing
    assert PAGES[0] == "book/intro" and "book/double_descent" in PAGES
    notebooks = [p for p in PAGES if p.startswith("notebooks/")]
    assert len(notebooks) == len(list((ROOT / "notebooks").glob("*.ipynb"))) >= 4
    for page in ["book/double_descent", *notebooks]:
        assert has_figure(page), f"{page}: expected figures"
    for page in ["book/intro", "book/double_descent", *notebooks]:
        assert has_math(page), f"{page}: expected math"


@contextlib.contextmanager
def output_to(path: Path):
    """Send this process's (and its children's) stdout and stderr to ``path``."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "wb") as log:
        os.dup2(log.fileno(), 1), os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


@pytest.fixture(scope="module")
def strict_build(tmp_path_factory) -> Path:
    """The book built strictly (warnings are errors) from the committed notebook outputs: its HTML folder."""
    tmp = tmp_path_factory.mktemp("browser")
    src = tmp / "src"  # a copy, so the build never touches the working tree's _build/
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "*.egg-info", "__pycache__", ".pytest_cache"))
    with output_to(tmp / "build.log"):
        status = build_html(src, strict=True, output=tmp)
    if status != 0:
        log = re.sub(r"\x1b\[[0-9;]*m", "", (tmp / "build.log").read_text(errors="replace"))
        warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        pytest.fail("jupyter-book build -W -n --keep-going failed:\n" + "\n".join(warnings[:30] or log.splitlines()[-30:]),
                    pytrace=False)
    return tmp / "_build" / "html"


@pytest.fixture(scope="module")
def site(strict_build):
    """The strict build, served on 127.0.0.1."""
    html = strict_build

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_book_builds_strictly_with_glued_numbers_figure_and_bibliography(strict_build):
    html = strict_build
    chapter = (html / "book" / "double_descent.html").read_text()
    assert "pasted-text" in chapter  # glued numbers
    image = re.search(r'<img[^>]*src="([^"]*ridgeless_risk[^"]*\.png)"', chapter)
    assert image and (html / "book" / image.group(1)).resolve().is_file(), "chapter figure missing from the build"
    assert "ridgeless_least_squares.ipynb::" not in chapter
    assert "Hastie" in chapter
    intro = (html / "book" / "intro.html").read_text()
    assert "pasted-text" in intro
    bibliography = (html / "book" / "bibliography.html").read_text()
    for author in ("Allen-Zhu", "Frankle", "Hastie", "Nakkiran", "Zhang"):
        assert author in bibliography
    assert (html / "notebooks" / "ridgeless_least_squares.html").is_file()
    status = (html / "book" / "execution_status.html").read_text()
    assert status.count("overparam-lib") == len(book_notebooks(ROOT)) and "Python 3." in status
    assert "mathjax/tex-chtml.js" in intro and "cdn.jsdelivr" not in intro  # MathJax served locally
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert_launch_buttons(html, *repository(ROOT))
    for notebook, call in (("ridgeless_least_squares", "ridge_risk_explorer"), ("deep_double_descent", "sweep_explorer"),
                           ("parameters_or_privacy", "privacy_explorer")):
        page = (html / "notebooks" / f"{notebook}.html").read_text()
        after_explorer = page[page.rindex(call):]  # the explorer's cell, not the imports
        assert re.match(r'(?s)((?!<div class="cell).)*<div class="cell_output[^>]*>\s*<img', after_explorer), (
            f"{notebook}: the explorer's static figure is not in the HTML"
        )
        assert "widget-view" not in page  # no live widget (and no widget JavaScript) where no kernel runs


def assert_launch_buttons(html, url, branch):
    """Every notebook page links Binder and Colab to its own .ipynb in the repository."""
    owner_name = url.removeprefix("https://github.com/")
    for path in book_notebooks(ROOT):
        page = (html / "notebooks" / f"{path.stem}.html").read_text()
        links = set(re.findall(r'href="(https://(?:mybinder\.org|colab\.research\.google\.com)[^"]*)"', page))
        assert links == {
            f"https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/notebooks/{path.name}",
            f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/notebooks/{path.name}",
        }, f"{path.stem}.html: launch links {links}"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (it is in requirements.txt)")
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (`.ci/run` does), "
                    "or set OVERPARAM_CHROMIUM to a Chromium executable")
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except sync_api.Error as err:  # Playwright's own: no usable browser on this machine
            first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
            message = f"Playwright could not launch Chromium at {CHROMIUM}: {first_line}"
            if os.environ.get("OVERPARAM_REQUIRE_BROWSER") == "1":  # .ci/run: Chromium is there, so it must work
                pytest.fail(message)
            pytest.skip(message)
        yield browser
        browser.close()


class Recorder:
    """What the open page asked of the network and reported, since the last clear()."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.external, self.failed, self.console, self.page_errors = [], [], [], []

    def problems(self) -> list[str]:
        return ([f"console error: {m}" for m in self.console] + [f"page error: {e}" for e in self.page_errors]
                + [f"failed request: {f}" for f in self.failed]
                + [f"needed the network (aborted): {u}" for u in self.external])


@pytest.fixture(scope="module")
def context(browser, site):
    """One browser context for all pages, offline: only 127.0.0.1 is reachable."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1, service_workers="block")
    context.set_default_timeout(20_000)
    context.record = Recorder()

    def offline(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # the book must work without a network: anything else is aborted and reported
            context.record.external.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", offline)
    # every page is a reader's first visit: nothing remembered from the pages before it
    context.add_init_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
    yield context
    context.close()


def open_page(context, url: str, lands_on: str | None = None):
    """A new tab at ``url`` (which may redirect to ``lands_on``): loaded, MathJax done, images settled."""
    record = context.record
    record.clear()
    page = context.new_page()

    def on_console(message):
        if message.type == "error":
            where = message.location or {}
            record.console.append(f"{message.text} (at {where.get('url', '?')}:{where.get('lineNumber', '?')})")

    def on_request_failed(request):
        if urlsplit(request.url).hostname == "127.0.0.1":  # the others are the aborted ones, recorded by the route
            record.failed.append(f"{request.url}: {request.failure}")

    def on_response(response):
        if response.status >= 400:
            record.failed.append(f"{response.url}: HTTP {response.status}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.goto(url, wait_until="load")
    if lands_on:
        page.wait_for_url(lands_on, wait_until="load")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
        await Promise.all([...document.images].map(img => {
            img.loading = "eager";
            return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
        }));
        await document.fonts.ready;
    }""")
    return page


VISIBLE_PROSE = """article => {
    // the text a reader sees, outside code and outside typeset math
    const skip = 'pre, code, script, style, mjx-container, .cell_input, .highlight';
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.parentElement.closest(skip) && n.parentElement.checkVisibility()) out.push(n.textContent);
    }
    return out.join(' ');
}"""
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{\w+\*?\}|\\frac|\$[^$\s][^$]{0,60}\$")


@pytest.mark.parametrize("doc", PAGES)
def test_page_renders_offline_without_errors(context, site, doc):
    page = open_page(context, f"{site}/{doc}.html")
    problems = []
    try:
        assert page.url == f"{site}/{doc}.html"
        article = page.locator(ARTICLE)
        assert article.count() == 1, f"no <{ARTICLE}> on the page"

        # images: every one loaded; a page whose source has figures shows some
        images = article.evaluate("a => [...a.querySelectorAll('img')].map(i => [i.currentSrc || i.src, i.naturalWidth])")
        problems += [f"image did not load: {src}" for src, width in images if width == 0]
        if has_figure(doc) and not images:
            problems.append("the source has figures but the page shows no <img>")

        # math: typeset by MathJax, and no TeX left in the visible text outside code
        if has_math(doc):
            if not page.evaluate("() => Boolean(window.MathJax && MathJax.startup && MathJax.startup.promise)"):
                problems.append("the source has math but MathJax is not running on the page")
            formulas = article.locator("mjx-container").count()
            if formulas < max(1, MANY_FORMULAS.get(doc, 0)):
                problems.append(f"{formulas} typeset formulas (<mjx-container>), expected at least {max(1, MANY_FORMULAS.get(doc, 0))}")
        problems += [f"raw TeX left in the text: {raw!r}" for raw in sorted(set(RAW_TEX.findall(article.evaluate(VISIBLE_PROSE))))]

        # glued numbers: filled in, none left as a literal role
        if re.search(r"\{glue|:glue:", page.locator("body").inner_text()):
            problems.append("literal {glue...} role text on the page")
        roles = len(re.findall(r"\{glue:text\}", source_of(doc)[1]))
        pasted = article.evaluate("a => [...a.querySelectorAll('.pasted-text')].map(e => e.textContent.trim())")
        if len(pasted) < roles:
            problems.append(f"{len(pasted)} glued values on the page, but the source has {roles} {{glue:text}} roles")
        problems += [f"glued value #{i} is empty" for i, text in enumerate(pasted) if not text]

        # notebook pages: Binder and Colab buttons that open this very notebook
        if doc.startswith("notebooks/"):
            problems += launch_button_problems(page, doc)

        if doc in SCREENSHOT_PAGES:  # before any failure, so that a broken page is there to look at
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{doc.replace('/', '_')}.png", full_page=True)
    finally:
        page.close()
    problems += context.record.problems()
    if problems:
        pytest.fail(f"{doc}.html:\n  " + "\n  ".join(problems), pytrace=False)


def launch_button_problems(page, doc: str) -> list[str]:
    repo = CONFIG["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = CONFIG["repository"].get("branch", "main")
    notebook = f"{doc}.ipynb"
    launch = CONFIG.get("launch_buttons", {})
    binder = launch.get("binderhub_url", "https://mybinder.org").rstrip("/")
    colab = launch.get("colab_url", "https://colab.research.google.com").rstrip("/")
    wanted = {
        "Binder": f"{binder}/v2/gh/{repo}/{branch}?urlpath=lab/tree/{notebook}",
        "Colab": f"{colab}/github/{repo}/blob/{branch}/{notebook}",
    }
    toggle = page.locator(".dropdown-launch-buttons button.dropdown-toggle")
    if toggle.count() != 1:
        return ["no launch-buttons dropdown (.dropdown-launch-buttons) in the article header"]
    toggle.click()  # open it as a reader would: the links must then be visible
    problems = []
    for name, href in wanted.items():
        # found by its label: Bootstrap's tooltip takes the title attribute away once the page runs
        link = page.locator(".dropdown-launch-buttons a.dropdown-item").filter(has_text=name)
        if link.count() != 1:
            problems.append(f"{link.count()} {name} launch buttons, expected 1")
            continue
        if link.get_attribute("href") != href:
            problems.append(f"{name} button opens {link.get_attribute('href')!r}, expected {href!r}")
        if not link.is_visible():
            problems.append(f"{name} button not visible after opening the launch dropdown")
    return problems


def test_index_redirects_to_the_introduction(context, site):
    page = open_page(context, f"{site}/index.html", lands_on=f"{site}/{PAGES[0]}.html")
    try:
        assert page.locator(f"{ARTICLE} h1").first.inner_text().strip()
    finally:
        page.close()
    problems = context.record.problems()
    if problems:
        pytest.fail("index.html:\n  " + "\n  ".join(problems), pytrace=False)
