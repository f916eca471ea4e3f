"""``parkplan map NAME -o FILE.html``: write an interactive map as one self-contained HTML file (every
script and stylesheet inlined, so it opens offline), or ``--png`` a static picture of it (a screenshot
in headless Chromium: ``$PARKPLAN_CHROMIUM`` or ``chromium``; without zoom buttons, search box or layer
control, with a north arrow and the packaged CJK font embedded, :mod:`maps.printing`; without Chromium, a matplotlib drawing
of the counties and parks, :mod:`maps.static`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from geodata.messages import CodedError, listing

from ._common import DataOption, err_console, fail, load
from ._lang import LangOption, Words, check_lang, num
from ._messages import CLI
from ._steps import steps

__all__ = ["register", "map_command", "screenshot", "find_chromium"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-sync",
                  "--no-first-run", "--mute-audio", "--hide-scrollbars", "--metrics-recording-only",
                  "--disable-domain-reliability", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")


def find_chromium() -> str | None:
    """``$PARKPLAN_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on the PATH."""
    env = os.environ.get("PARKPLAN_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(html_path: Path, png_path: Path, *, width: int = 1400, height: int = 1000,
               budget_ms: int = 15000, timeout: float = 120.0) -> Path:
    """Render ``html_path`` (a self-contained map) to ``png_path`` with headless Chromium (no network)."""
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found for --png: install Debian's chromium or set PARKPLAN_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="parkplan-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--virtual-time-budget={budget_ms}", f"--screenshot={png_path.resolve()}",
               html_path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not png_path.exists() or png_path.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return png_path


def map_command(
    name: Annotated[str, typer.Argument(help="parks, enterprises, clusters, suitability or transfers")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the HTML (or, with --png, PNG) file to write")],
    data: DataOption = None,
    sector: Annotated[Optional[str], typer.Option(help="sector id (parks, enterprises, clusters)")] = None,
    enterprise_id: Annotated[Optional[str], typer.Option("--enterprise-id", help="for the suitability map")] = None,
    county: Annotated[Optional[str], typer.Option(help="6-digit county code (transfers: that office's candidates)")] = None,
    lang: LangOption = None,
    metric: Annotated[Optional[str], typer.Option(help="parks map: colour parks by this park-profile column")] = None,
    tiles: Annotated[Optional[str], typer.Option(help="basemap tiles: osm, tianditu or amap (default: none, counties only)")] = None,
    tianditu_key: Annotated[Optional[str], typer.Option("--tianditu-key", envvar="PARKPLAN_TIANDITU_KEY",
                                                        help="Tianditu key for --tiles tianditu")] = None,
    png: Annotated[bool, typer.Option("--png", help="write a PNG picture instead of HTML (needs chromium)")] = False,
    land_ha: Annotated[Optional[float], typer.Option("--land-ha", help="suitability map for a profile (with "
                                                     "--sector, --employees, --pollution-class, --lon, --lat): land (ha)")] = None,
    employees: Annotated[Optional[int], typer.Option(help="suitability map for a profile: employees")] = None,
    pollution_class: Annotated[Optional[str], typer.Option("--pollution-class", help="suitability map for a "
                                                           "profile: light, medium or heavy")] = None,
    lon: Annotated[Optional[float], typer.Option(help="suitability map for a profile: site longitude (WGS 84)")] = None,
    lat: Annotated[Optional[float], typer.Option(help="suitability map for a profile: site latitude (WGS 84)")] = None,
    profile_name: Annotated[Optional[str], typer.Option("--profile-name", help="suitability map for a profile: "
                                                        "a name to show")] = None,
    weights: Annotated[Optional[str], typer.Option(help="suitability map: criterion weights, e.g. "
                                                   "distance:60,sector_fit:5")] = None,
) -> None:
    """Write the map NAME as a self-contained HTML file (opens offline) or, with --png, as a picture."""
    from maps import MAP_NAMES, MapError, MapOptions, build_map, inline_assets, render_html
    from parks.joins import prepare

    if name not in MAP_NAMES:
        fail(CLI("cli.map_unknown", name=name, accepted=listing(MAP_NAMES)), lang=lang)
    try:
        opts = MapOptions(lang=check_lang(lang), tiles=tiles, tianditu_key=tianditu_key)
    except ValueError as exc:
        fail(exc, lang=lang)
    profile = None
    if name == "suitability":
        fields = {"sector": sector, "land_ha": land_ha, "employees": employees, "pollution_class": pollution_class,
                  "lon": lon, "lat": lat}
        given = {k: v for k, v in fields.items() if v is not None}
        if given:
            missing = [k for k, v in fields.items() if v is None]
            if missing:
                fail(CLI("cli.map_profile", options=listing("--" + k.replace("_", "-") for k in missing)),
                     lang=lang)
            profile = {**given, **({"name": profile_name} if profile_name else {})}
            sector = None
    w = Words(lang)
    word = w.t
    with steps(3, err_console) as progress:
        progress.step(word("step_load_data"))
        ds = prepare(load(data, w.lang))
        progress.step(word("step_build_map"))
        try:
            from maps.suitability_map import parse_weights

            m = build_map(name, ds, sector=sector, enterprise_id=enterprise_id, county=county, opts=opts,
                          metric=metric, profile=profile,
                          weights=parse_weights(weights) if name == "suitability" else None)
        except (MapError, ValueError, LookupError) as exc:
            if isinstance(exc, CodedError):
                fail(exc, lang=w.lang)
            fail(CLI("cli.not_found" if isinstance(exc, LookupError) else "cli.library",
                     reason=str(exc).strip("'\"")), lang=w.lang)
        progress.step(word("step_render_map"))
        html = inline_assets(render_html(m))
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not png:
        from maps.printing import embed_font

        html = embed_font(html)  # the CJK font cut to the map's characters: Chinese with no system font
        output.write_text(html, encoding="utf-8")
        err_console.print(w.t("cli_wrote_map", path=output, mb=num(len(html.encode("utf-8")) / 1e6, 1)),
                          highlight=False, markup=False)
        return
    if find_chromium() is None:
        from maps.static import static_png

        static_png(ds, name, output, opts=opts, sector=sector)
        err_console.print(w.t("cli_wrote_static_png", path=output), highlight=False, markup=False)
        return
    from maps.printing import print_ready

    with tempfile.TemporaryDirectory(prefix="parkplan-map-") as tmp:
        page = Path(tmp) / "map.html"
        page.write_text(print_ready(html, w.lang), encoding="utf-8")
        try:
            with steps(1, err_console) as progress:
                progress.step(word("step_screenshot"))
                screenshot(page, output)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            fail(CLI("cli.screenshot", reason=str(exc)), lang=w.lang)
    err_console.print(w.t("cli_wrote", path=output), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("map")(map_command)
