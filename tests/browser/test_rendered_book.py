"""The rendered book, read in a real headless Chromium, the way a reader sees it.

``make browser-test`` builds the book (``EBJEPA_PRESET=ci make book``), serves ``_build/html`` with
``python -m http.server`` on 127.0.0.1 and opens every page listed in ``_toc.yml``. A page passes when:

* no cell shows an execution error: no myst-nb error/traceback output, no
  "Traceback (most recent call last)", no ``SomethingError:`` line in any cell output;
* every ``<img>`` in the article has loaded (``naturalWidth > 0``); a chapter page shows at least
  ``MIN_CHAPTER_FIGURES`` figures, and every "*Figure ...*" caption follows a cell that shows one;
* MathJax has typeset every equation (each ``.math`` element holds an ``mjx-container``, no
  ``mjx-merror``) and no raw TeX delimiters (``$$``, ``\\(``, ``\\[``) are left in the article text;
* every ipywidget output renders from its embedded state (the static fallback), with the
  chapter-specific checks in ``WIDGET_CHECKS`` (chapter 1's beta slider, chapter 2's Collapse Lab);
* nothing is requested from outside 127.0.0.1 (scripts from a CDN, fonts, ...): the browser
  context aborts and records such requests, so the test also shows the page renders offline;
* no local file is missing (404) and no uncaught JavaScript error occurs, except the known,
  harmless ones in ``KNOWN_JS_ERRORS`` / ``TOLERATED_MISSING``.

Plus: the sidebar links every page, "next"/"previous" walk the table of contents in order, and
``search.html?q=collapse`` lists chapter 2. A full-page screenshot of every page is saved to
``artifacts/screenshots/`` for review.

Figures, on every chapter page:

* every ``<img>`` in a cell output has alt text that describes it (from the cell's
  ``mystnb.image.alt`` metadata; without it Sphinx writes the PNG's file name). Images that a
  widget draws from its embedded state cannot carry alt text and are reported as warnings;
* in the dark theme (``<html data-theme="dark">``) every output image, widget images included,
  is a fully opaque picture on a white or near-white backdrop (book/_static/custom.css), and a
  dark-mode screenshot ``<page>__dark.png`` is saved next to the others.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser

NAV_TIMEOUT_MS = 60_000
RENDER_TIMEOUT_MS = 45_000
MIN_CHAPTER_FIGURES = 3


def toc_pages() -> list[str]:
    """Every document of ``_toc.yml`` in reading order, without suffix (e.g. ``chapters/02_collapse``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", p) for p in pages]


PAGES = toc_pages()

# Uncaught JS errors that are known and harmless; anything else fails the page.
KNOWN_JS_ERRORS = {
    # jupyter-book 1.0.4 injects sphinx-thebe's inline config twice per page; the second `const`
    # throws. Thebe is off (_config.yml launch_buttons.thebe: false), nothing uses it.
    "Identifier 'THEBE_JS_URL' has already been declared":
        "sphinx-thebe config injected twice by jupyter-book 1.x (thebe is disabled)",
    # @jupyter-widgets/html-manager 1.0.15 typesets widget labels with the MathJax 2 API
    # (MathJax.Hub.Queue), but the book loads MathJax 3. The label text is set before the call
    # fails; only LaTeX inside widget descriptions would stay untypeset (the book has none).
    "Cannot read properties of undefined (reading 'Queue')":
        "html-manager calls MathJax 2's MathJax.Hub.Queue; the book vendors MathJax 3",
}
# Local files that may 404 (reported as warnings): the html-manager's Font Awesome fonts are
# referenced relative to the page, and tools/vendor_js.sh vendors only embed-amd.js, so the icons
# on widget buttons (Train/Stop/Reset) are missing in the static page.
TOLERATED_MISSING = re.compile(r"/@jupyter-widgets/.*\.(woff2?|ttf|eot|svg)$")

ERROR_LINE = re.compile(r"^\s*(?:[\w.]+\.)?\w*(?:Error|Exception)(?::|$)", re.M)
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")

# Wait until the page's JavaScript is done: MathJax typeset, widgets rendered, images decoded.
SETTLE_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const imgs = [...document.querySelectorAll('article img')];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null :
      new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  await Promise.all(imgs.map(i => i.decode ? i.decode().catch(() => null) : null));
  return true;
}"""

# Everything the per-page assertions need, read in one pass.
INSPECT_JS = r"""() => {
  const art = document.querySelector('article.bd-article') || document.querySelector('article');
  if (!art) { return null; }
  const text = (el) => (el.innerText || el.textContent || '');
  const clone = art.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight, .widget-subarea')
       .forEach(e => e.remove());
  const outputs = [...art.querySelectorAll('.cell_output')];
  const captions = [...art.querySelectorAll('p > em:first-child')]
      .filter(em => /^Figure\b/.test(em.textContent.trim()) && em.parentElement.firstChild === em)
      .map(em => {
        const p = em.parentElement;
        let prev = p.previousElementSibling;
        return {caption: em.textContent.trim().slice(0, 60),
                figure: !!(prev && prev.querySelector('.cell_output img'))};
      });
  const views = [...art.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  return {
    title: document.title,
    articleText: text(art),
    proseText: clone.textContent,
    errorOutputs: [...art.querySelectorAll('.output.error, .output.traceback, .traceback')].map(e => text(e).slice(0, 300)),
    outputTexts: outputs.map(text),
    stderr: [...art.querySelectorAll('.cell_output .output.stderr')].map(e => text(e).trim().slice(0, 300)),
    images: [...art.querySelectorAll('img')].map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth,
        h: i.naturalHeight, alt: i.alt, inOutput: !!i.closest('.cell_output'), inWidget: !!i.closest('.widget-subarea')})),
    figureCount: [...art.querySelectorAll('.cell_output img')].filter(i => !i.closest('.widget-subarea')).length,
    captions,
    math: art.querySelectorAll('.math').length,
    mathUntypeset: [...art.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container'))
                    .map(m => m.textContent.slice(0, 80)),
    mjx: art.querySelectorAll('mjx-container').length,
    mjxErrors: [...art.querySelectorAll('mjx-merror')].map(e => (e.getAttribute('data-mjx-error') || text(e)).slice(0, 120)),
    widgetViews: views.length,
    widgetsUnrendered: views.filter(s => !s.parentElement.querySelector('.jupyter-widgets')).length,
  };
}"""


def slug(page: str) -> str:
    return page.replace("/", "__")


def wait_for_widgets(page) -> None:
    """Widgets render asynchronously (require.js loads embed-amd.js, which renders the state)."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
                  .every(s => s.parentElement.querySelector('.jupyter-widgets'))""",
        timeout=RENDER_TIMEOUT_MS)


# ---- chapter-specific static widget checks ----------------------------------------------------------------
def check_beta_slider(page) -> list[str]:
    """Chapter 1: the interact() slider for beta, with its figure from the embedded Output state."""
    problems = []
    slider = page.locator(".widget-interact .widget-slider").filter(has_text="β")
    if slider.count() != 1 or not slider.first.is_visible():
        problems.append("chapter 1: the beta slider (.widget-interact .widget-slider labelled 'β') is not visible")
    else:
        readout = slider.first.locator(".widget-readout").inner_text().strip()
        if not re.fullmatch(r"[0-9.e+-]+", readout):
            problems.append(f"chapter 1: the beta slider's readout is {readout!r}, expected a number")
    img = page.locator(".widget-interact .widget-output img")
    if img.count() < 1 or img.first.evaluate("i => i.naturalWidth") == 0:
        problems.append("chapter 1: the beta slider's static figure (embedded Output widget image) did not render")
    return problems


def check_collapse_lab(page) -> list[str]:
    """Chapter 2: the Collapse Lab from embedded state: controls, readout and a PNG dashboard."""
    problems = []
    lab = page.locator(".widget-vbox").filter(has_text="Regularisers").filter(has=page.locator(".ebjm-lab-figure img")).first
    if lab.count() == 0:
        return ["chapter 2: no Collapse Lab widget (a VBox with 'Regularisers' and an image) rendered"]
    if not lab.get_by_text("Regularisers").first.is_visible():
        problems.append("chapter 2: the 'Regularisers' heading of the Collapse Lab is not visible")
    for name in ("variance", "covariance", "sigreg"):
        # exact label: "covariance" contains "variance"
        box = lab.locator(".widget-checkbox").filter(has=page.get_by_text(name, exact=True))
        if box.count() != 1 or not box.locator("input[type=checkbox]").is_visible():
            problems.append(f"chapter 2: the Collapse Lab checkbox {name!r} is not visible")
    for label in ("Train", "Stop", "Reset model"):
        if not lab.get_by_role("button", name=label).first.is_visible():
            problems.append(f"chapter 2: the Collapse Lab button {label!r} is not visible")
    readout = lab.locator(".widget-html").filter(has_text="effective rank")
    text = readout.first.inner_text() if readout.count() else ""
    if not re.search(r"step \d+ · effective rank", text):
        problems.append("chapter 2: the Collapse Lab readout ('step N · effective rank ...') is missing")
    elif not re.search(r"effective rank \d", text):
        problems.append(f"chapter 2: the Collapse Lab readout shows no number for the effective rank: {text!r}")
    img = lab.locator(".ebjm-lab-figure img")
    info = img.first.evaluate("""async i => {
        const r = await fetch(i.src); const b = new Uint8Array(await r.arrayBuffer());
        return {w: i.naturalWidth, png: b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4E && b[3] === 0x47,
                visible: i.getBoundingClientRect().width > 0};
    }""") if img.count() else None
    if not info or not info["png"] or info["w"] == 0 or not info["visible"]:
        problems.append(f"chapter 2: the Collapse Lab dashboard image is not a visible, loaded PNG ({info})")
    elif "Collapse Lab dashboard" not in (img.first.get_attribute("alt") or ""):
        problems.append("chapter 2: the Collapse Lab dashboard image has no alt text describing it")
    return problems


def check_planner_lab(page) -> list[str]:
    """Chapter 6: the Planner Lab from embedded state: planner controls, readout of the executed
    episode and a loaded PNG of the rollouts and path."""
    problems = []
    lab = page.locator(".widget-vbox").filter(has_text="Planner").filter(has=page.locator(".ebjm-lab-figure img")).first
    if lab.count() == 0:
        return ["chapter 6: no Planner Lab widget (a VBox with 'Planner' and an image) rendered"]
    for label in ("Plan one step", "Run episode"):
        if not lab.get_by_role("button", name=label).first.is_visible():
            problems.append(f"chapter 6: the Planner Lab button {label!r} is not visible")
    for name in ("mppi", "cem", "cumulative", "last"):
        if not lab.get_by_role("button", name=name, exact=True).first.is_visible():
            problems.append(f"chapter 6: the Planner Lab toggle {name!r} is not visible")
    text = lab.locator(".widget-html").filter(has_text="task").first.inner_text() if lab.count() else ""
    if not re.search(r"(success|failure): final distance [0-9.]+ px", text):
        problems.append(f"chapter 6: the Planner Lab readout does not report the executed episode: {text!r}")
    img = lab.locator(".ebjm-lab-figure img")
    if img.count() == 0 or img.first.evaluate("i => i.naturalWidth") == 0:
        problems.append("chapter 6: the Planner Lab figure (PNG) did not load")
    elif "Planner Lab" not in (img.first.get_attribute("alt") or ""):
        problems.append("chapter 6: the Planner Lab figure has no alt text describing it")
    return problems


WIDGET_CHECKS = {
    "chapters/01_energy_models": check_beta_slider,
    "chapters/02_collapse": check_collapse_lab,
    "chapters/06_mppi_planning": check_planner_lab,
}


# ---- per page ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", PAGES)
def test_page_renders(page, book_url, book_html, screenshot_dir, doc):
    assert (book_html / f"{doc}.html").is_file(), f"{doc}.html is in _toc.yml but was not built"
    url = urljoin(book_url, f"{doc}.html")
    page.goto(url, wait_until="load", timeout=NAV_TIMEOUT_MS)
    if page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
        try:
            wait_for_widgets(page)
        except Exception:  # reported below as 'widgetsUnrendered'
            pass
    page.evaluate(SETTLE_JS)
    info = page.evaluate(INSPECT_JS)
    page.screenshot(path=str(screenshot_dir / f"{slug(doc)}.png"), full_page=True)
    assert info is not None, f"{doc}: no <article> in the page (theme changed?)"
    rec = page.recorder
    problems: list[str] = []

    # 1. execution errors
    if info["errorOutputs"]:
        problems.append(f"error outputs (myst-nb .output.error/.traceback): {info['errorOutputs']}")
    if "Traceback (most recent call last)" in info["articleText"]:
        problems.append("the text 'Traceback (most recent call last)' is on the page")
    bad_lines = sorted({m.group(0).strip() for t in info["outputTexts"] for m in ERROR_LINE.finditer(t)})
    if bad_lines:
        problems.append(f"cell outputs contain error lines: {bad_lines}")
    for text in info["stderr"]:
        warnings.warn(f"{doc}: a cell writes to stderr: {text!r}", stacklevel=1)

    # 2. images and figures
    broken = [i["src"][:100] for i in info["images"] if i["w"] == 0]
    if broken:
        problems.append(f"images that did not load (naturalWidth 0): {broken}")
    if doc.startswith("chapters/"):
        if info["figureCount"] < MIN_CHAPTER_FIGURES:
            problems.append(f"only {info['figureCount']} figure(s) in cell outputs, expected >= {MIN_CHAPTER_FIGURES}")
        missing_fig = [c["caption"] for c in info["captions"] if not c["figure"]]
        if missing_fig:
            problems.append(f"{len(missing_fig)} of {len(info['captions'])} figure captions follow a cell that shows "
                            f"no image: {missing_fig}")

    # 3. equations
    if info["math"]:
        if info["mjx"] == 0:
            problems.append(f"{info['math']} equations but no mjx-container: MathJax did not run")
        elif info["mathUntypeset"]:
            problems.append(f"{len(info['mathUntypeset'])} equations not typeset: {info['mathUntypeset'][:5]}")
    if info["mjxErrors"]:
        problems.append(f"MathJax errors: {info['mjxErrors'][:5]}")
    raw = sorted({m.group(0)[:60] for m in RAW_TEX.finditer(info["proseText"])})
    if raw:
        problems.append(f"raw TeX left in the article text: {raw[:10]}")

    # 4. widgets (static fallback from the embedded state)
    if info["widgetsUnrendered"]:
        problems.append(f"{info['widgetsUnrendered']} of {info['widgetViews']} widgets did not render from the "
                        "embedded state (blank widget area)")
    if doc in WIDGET_CHECKS:
        problems += WIDGET_CHECKS[doc](page)

    # 5. offline: no request leaves 127.0.0.1, no local 404, no unknown JS error
    if rec.blocked:
        scripts = [u for t, u in rec.blocked if t == "script"]
        problems.append(f"requests to non-local URLs (scripts from a CDN: {scripts}); all: {rec.blocked[:10]}")
    local_failures = {}
    for _, u, why in rec.http_errors + rec.failed:
        local_failures.setdefault(u, f"{u} ({why})")
    missing = [f for u, f in sorted(local_failures.items()) if not TOLERATED_MISSING.search(u)]
    tolerated = [f for u, f in sorted(local_failures.items()) if TOLERATED_MISSING.search(u)]
    if missing:
        problems.append(f"local requests failed: {missing[:10]}")
    if tolerated:
        warnings.warn(f"{doc}: {len(tolerated)} known-missing local file(s) (html-manager's Font Awesome fonts, "
                      f"not vendored): {tolerated[:3]} ...", stacklevel=1)
    unknown_js = sorted({e for e in rec.page_errors if not any(k in e for k in KNOWN_JS_ERRORS)})
    if unknown_js:
        problems.append(f"uncaught JavaScript errors: {unknown_js[:5]}")

    assert not problems, f"{doc} ({url}), screenshot artifacts/screenshots/{slug(doc)}.png:\n  - " + \
        "\n  - ".join(problems)


# ---- figures: alt text and the dark theme -----------------------------------------------------------------------
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]
MIN_ALT_CHARS = 20
NEAR_WHITE = 240          # every RGB channel of a figure's backdrop, 0..255

# Every <img> in a cell output: its alt text, whether a widget drew it, the first non-transparent
# background behind it (the img's own, else its nearest ancestor's), and the alpha of a corner pixel
# of the picture itself (255: the PNG has an opaque background, as viz.use_book_style sets).
OUTPUT_IMAGES_JS = r"""() => {
  const art = document.querySelector('article.bd-article') || document.querySelector('article');
  if (!art) { return null; }
  const parse = (c) => {
    const m = /rgba?\(([^)]*)\)/.exec(c || '');
    if (!m) { return null; }
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const backdrop = (img) => {
    for (let e = img; e && e !== document.documentElement; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        return {r: c.r, g: c.g, b: c.b, a: c.a, from: e === img ? 'img' : (e.tagName.toLowerCase() + '.' +
                [...e.classList].join('.'))};
      }
    }
    return null;
  };
  const cornerAlpha = (img) => {
    try {
      const cv = document.createElement('canvas');
      cv.width = Math.max(1, img.naturalWidth); cv.height = Math.max(1, img.naturalHeight);
      const ctx = cv.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return ctx.getImageData(1, 1, 1, 1).data[3];
    } catch (err) { return String(err); }
  };
  return [...art.querySelectorAll('.cell_output img')].map(i => ({
    src: (i.currentSrc || i.src || '').slice(0, 40) + '...' + (i.currentSrc || i.src || '').slice(-24),
    alt: i.getAttribute('alt'),
    widget: !!i.closest('.widget-subarea, .jupyter-widgets'),
    w: i.naturalWidth,
    shown: i.getBoundingClientRect().width > 0,
    backdrop: backdrop(i),
    corner: cornerAlpha(i),
  }));
}"""


def open_chapter(page, book_url, doc: str) -> None:
    page.goto(urljoin(book_url, f"{doc}.html"), wait_until="load", timeout=NAV_TIMEOUT_MS)
    if page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count():
        try:
            wait_for_widgets(page)
        except Exception:  # test_page_renders reports unrendered widgets
            pass
    page.evaluate(SETTLE_JS)


def describes(alt: str | None) -> bool:
    """Alt text that says something: not empty, not a file name or URI (Sphinx's default)."""
    text = (alt or "").strip()
    return len(text) >= MIN_ALT_CHARS and not re.search(r"(^(\.\./|data:|https?:)|\.(png|jpe?g|gif|svg)$)", text, re.I)


@pytest.mark.parametrize("doc", CHAPTERS)
def test_output_images_have_alt_text(page, book_url, doc):
    open_chapter(page, book_url, doc)
    images = page.evaluate(OUTPUT_IMAGES_JS)
    assert images is not None, f"{doc}: no <article> in the page (theme changed?)"
    figures = [i for i in images if not i["widget"]]
    assert len(figures) >= MIN_CHAPTER_FIGURES, f"{doc}: only {len(figures)} figure(s) in cell outputs"
    bad = [f"{i['src']} alt={i['alt']!r}" for i in figures if not describes(i["alt"])]
    assert not bad, (f"{doc}: {len(bad)} of {len(figures)} output images have no describing alt text; add "
                     "`mystnb={\"image\": {\"alt\": \"...\"}}` to the cell header in the chapter's .py and "
                     "`make sync`:\n  - " + "\n  - ".join(bad))
    widget_no_alt = [i["src"] for i in images if i["widget"] and not describes(i["alt"])]
    if widget_no_alt:
        warnings.warn(f"{doc}: {len(widget_no_alt)} image(s) drawn by a widget from its embedded state have no alt "
                      "text (ipywidgets' Image and Output widgets cannot set one)", stacklevel=1)


@pytest.mark.parametrize("doc", CHAPTERS)
def test_output_images_read_in_dark_mode(page, book_url, screenshot_dir, doc):
    page.emulate_media(color_scheme="dark")
    open_chapter(page, book_url, doc)
    # what the theme's switcher does (pydata-sphinx-theme: data-mode is the choice, data-theme the result)
    page.evaluate("""() => { localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');
                             document.documentElement.dataset.mode = 'dark';
                             document.documentElement.dataset.theme = 'dark'; }""")
    page.wait_for_timeout(300)   # let the style recalculation and any CSS transition settle
    body = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    channels = [int(float(v)) for v in re.findall(r"[\d.]+", body)[:3]]
    assert len(channels) == 3 and max(channels) < 100, f"{doc}: dark mode is not active, body background {body}"
    images = page.evaluate(OUTPUT_IMAGES_JS)
    page.screenshot(path=str(screenshot_dir / f"{slug(doc)}__dark.png"), full_page=True)
    assert images, f"{doc}: no images in cell outputs"
    problems = []
    for i in images:
        if not i["shown"]:
            continue
        bg = i["backdrop"]
        if bg is None or bg["a"] < 1 or min(bg["r"], bg["g"], bg["b"]) < NEAR_WHITE:
            problems.append(f"{i['src']}: backdrop {bg} is not an opaque white")
        if i["corner"] != 255:
            problems.append(f"{i['src']}: the picture itself is transparent at its corner (alpha {i['corner']}); "
                            "draw it with viz.use_book_style()")
    assert not problems, (f"{doc}, screenshot artifacts/screenshots/{slug(doc)}__dark.png: output images that do "
                          "not read on the dark theme:\n  - " + "\n  - ".join(problems))


# ---- navigation and search -------------------------------------------------------------------------------------
def test_index_redirects_to_the_root_page(page, book_url):
    page.goto(urljoin(book_url, "index.html"), wait_until="load", timeout=NAV_TIMEOUT_MS)
    page.wait_for_url(re.compile(re.escape(PAGES[0]) + r"\.html"), timeout=RENDER_TIMEOUT_MS)


def test_sidebar_links_every_page(page, book_url):
    for doc in (PAGES[0], PAGES[-1]):
        page.goto(urljoin(book_url, f"{doc}.html"), wait_until="load", timeout=NAV_TIMEOUT_MS)
        nav = page.locator("nav.bd-docs-nav")
        assert nav.is_visible(), f"{doc}: the left sidebar (nav.bd-docs-nav) is not visible at {page.viewport_size}"
        hrefs = nav.locator("a.reference").evaluate_all("as => as.map(a => a.href.split('#')[0])")
        linked = {h[len(book_url):] for h in hrefs if h.startswith(book_url)}
        missing = [p for p in PAGES if f"{p}.html" not in linked]
        assert not missing, f"{doc}: the sidebar does not link {missing}; it links {sorted(linked)}"
    # and clicking a sidebar link opens that page (the second chapter, two steps away from the root)
    target = PAGES[2] if len(PAGES) > 2 else PAGES[-1]
    page.goto(urljoin(book_url, f"{PAGES[0]}.html"), wait_until="load", timeout=NAV_TIMEOUT_MS)
    page.locator(f"nav.bd-docs-nav a.reference[href$='{Path(target).name}.html']").first.click()
    page.wait_for_url(re.compile(re.escape(target) + r"\.html"), timeout=NAV_TIMEOUT_MS)


def test_next_and_previous_walk_the_toc(page, book_url):
    page.goto(urljoin(book_url, f"{PAGES[0]}.html"), wait_until="load", timeout=NAV_TIMEOUT_MS)
    for doc in PAGES[1:]:
        nxt = page.locator("a.right-next")
        assert nxt.count() == 1, f"{page.url}: no 'next' link (expected one to {doc})"
        nxt.click()
        page.wait_for_url(re.compile(re.escape(doc) + r"\.html"), timeout=NAV_TIMEOUT_MS)
    assert page.locator("a.right-next").count() == 0, f"the last page {page.url} still has a 'next' link"
    prev = page.locator("a.left-prev")
    assert prev.count() == 1, f"{page.url}: no 'previous' link"
    prev.click()
    page.wait_for_url(re.compile(re.escape(PAGES[-2]) + r"\.html"), timeout=NAV_TIMEOUT_MS)


def test_search_finds_collapse(page, book_url, screenshot_dir):
    page.goto(urljoin(book_url, "search.html?q=collapse"), wait_until="load", timeout=NAV_TIMEOUT_MS)
    results = page.locator("#search-results ul.search li")
    try:
        results.first.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    except Exception as err:
        text = page.locator("#search-results").inner_text() if page.locator("#search-results").count() else ""
        raise AssertionError(f"search.html?q=collapse listed no results within {RENDER_TIMEOUT_MS // 1000} s; "
                             f"#search-results says {text!r}") from err
    hrefs = results.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert any("02_collapse" in (h or "") for h in hrefs), f"search for 'collapse' does not list chapter 2: {hrefs}"
    page.screenshot(path=str(screenshot_dir / "search__collapse.png"), full_page=True)
