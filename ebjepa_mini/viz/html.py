"""Figures and animations as HTML: PNG bytes and ``<img>`` tags for widgets, and an offline
animation player for the static book."""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["figure_png", "figure_img_html", "offline_jshtml"]


def figure_png(fig) -> bytes:
    """Render a figure to PNG bytes (for image widgets); closes pyplot figures."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)
    return buf.getvalue()


def figure_img_html(fig, alt: str) -> str:
    """An ``<img>`` tag (PNG as a data URI) with alt text, for widgets: ipywidgets' ``Image`` cannot
    carry alt text, an ``HTML`` widget holding this tag can (also in the static book's widget state)."""
    import base64
    import html

    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            'style="width:100%; height:auto">')



_FA_SYMBOLS = {"fast-backward": "⏮", "fast-forward": "⏭", "step-backward": "◀|", "step-forward": "|▶",
               "pause": "⏸", "play": "▶", "minus": "−", "plus": "+"}


def offline_jshtml(anim, alt: str | None = None, **kwargs) -> str:
    """``anim.to_jshtml(**kwargs)`` without its Font Awesome stylesheet from a CDN: the player's
    icons become plain Unicode symbols, so the animation works in an offline build of the book.

    The player's ``<img>`` gets ``alt`` as its alt text (default: the animation's ``alt_text``
    attribute, which :func:`~ebjepa_mini.viz.video.animate_video` sets, else a generic description), because cell
    metadata (``mystnb.image.alt``) only reaches image outputs, not HTML ones.
    """
    import html as _html
    import re

    alt = alt or getattr(anim, "alt_text", None) or "Animation; the buttons below play it or step through its frames."
    html = anim.to_jshtml(**kwargs)
    html = re.sub(r'<img id="(_anim_img[^"]*)"', lambda m: f'<img id="{m.group(1)}" alt="{_html.escape(alt)}"',
                  html, count=1)
    html = re.sub(r'<link rel="stylesheet"\s*href="https?://[^"]*font-awesome[^"]*">', "", html)

    def icon(m):
        name, extra = m.group(1), m.group(2)
        sym = "◀" if name == "play" and "flip" in extra else _FA_SYMBOLS.get(name, name)
        return f'<span style="font-family: sans-serif">{sym}</span>'

    return re.sub(r'<i class="fa fa-([a-z-]+)([^"]*)"></i>', icon, html)
