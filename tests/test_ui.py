"""The bot.ui package as a whole: what it exports, that gradio loads only with the app, and
that the page's CSS and script are real files handed to Gradio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bot.ui

PROJECT = Path(__file__).resolve().parent.parent
UI = PROJECT / "bot" / "ui"


def test_the_page_logic_and_rendering_import_without_gradio():
    code = (
        "import sys, bot.ui, bot.ui.page, bot.ui.render, bot.ui.uploads\n"
        "assert 'gradio' not in sys.modules, 'gradio was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, check=True, timeout=120)


def test_the_app_names_resolve_from_the_package():
    from bot.ui import app, build_app, launch, launch_options

    assert (build_app, launch, launch_options) == (app.build_app, app.launch, app.launch_options)
    assert set(bot.ui.__all__) <= set(dir(bot.ui)) | {"build_app", "launch", "launch_options"}


def test_css_and_script_are_files_passed_to_launch():
    options = bot.ui.launch_options()
    (css,) = options["css_paths"]
    assert Path(css).parent == UI / "static" and ".accord-card" in Path(css).read_text()
    script = (UI / "static" / "accord.js").read_text()
    assert options["js"] == script and "a.accord-cite" in script
    assert "<script" not in options["head"] and "viewport" in options["head"]
    # Nothing else carries CSS or script: the Python modules only name classes.
    for module in UI.glob("*.py"):
        text = module.read_text()
        assert "addEventListener" not in text and "@media" not in text, module.name


def test_launch_options_keep_the_page_self_contained():
    options = bot.ui.launch_options()
    assert options["share"] is False and options["ssr_mode"] is False
    assert options["mcp_server"] is False and options["pwa"] is False
    assert "system-ui" in str(options["theme"].font)
