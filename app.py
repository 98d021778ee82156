"""Start Accord's chat page: python app.py [--host 127.0.0.1] [--port 7860] [--data-dir DIR]

Before serving, the index is brought up to date with corpus/ (incremental: unchanged files are
skipped, so this is quick when nothing changed). Set ACCORD_AUTH=user:password to require a
login, which you should do before binding to anything but 127.0.0.1; then the OpenAI-compatible
API (/v1) and the MCP tools (/mcp) need ACCORD_API_KEY as a bearer key.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

# Before anything imports gradio: no analytics, no telemetry, no hub lookups.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="Serve Accord's chat page (streaming answers with numbered citations).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; "
        "use 0.0.0.0 to expose it, with ACCORD_AUTH set)",
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument(
        "--data-dir", help="where the index lives (default ./data, ACCORD_DATA_DIR)"
    )
    parser.add_argument(
        "--no-ingest",
        action="store_true",
        help="serve the index as it is, without checking corpus/ first",
    )
    parser.add_argument(
        "--no-mcp",
        action="store_true",
        help="do not serve the MCP tools at /mcp (the page and /v1 are served either way)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {args.port}")
    return args


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """ACCORD_AUTH=user:password → ("user", "password"); empty → no login."""
    from bot.errors import ConfigError

    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("ACCORD_AUTH must look like user:password (both non-empty)")
    return user, password


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    data_dir = Path(args.data_dir or os.environ.get("ACCORD_DATA_DIR") or "data")
    # Gradio keeps uploaded files in its temp folder: keep that under the data dir too.
    os.environ.setdefault("GRADIO_TEMP_DIR", str(data_dir.resolve() / "cache" / "gradio"))

    from bot import AccordError, Bot
    from bot.errors import IndexStaleError

    try:
        auth = parse_auth(os.environ.get("ACCORD_AUTH"))
        api_key = os.environ.get("ACCORD_API_KEY", "").strip() or None
        bot = Bot(data_dir=data_dir)
        if args.no_ingest:
            if not bot.status()["documents"]:
                print(
                    "warning: the index is empty; run `python ingest.py` or upload "
                    "documents on the page",
                    file=sys.stderr,
                )
        else:
            print(
                f"Checking the index in {bot.settings.index_dir} against "
                f"{bot.settings.corpus_dir} ...",
                file=sys.stderr,
            )
            try:
                report = bot.ingest(None, progress=True)
            except IndexStaleError as exc:
                # The shipped corpus is always at hand, so re-index it instead of refusing.
                print(f"{exc}\nRebuilding the index ...", file=sys.stderr)
                report = bot.ingest(None, progress=True, rebuild=True)
            for source, reason in report.failed:
                print(f"failed: {source}: {reason}", file=sys.stderr)
            print(report.summary(), file=sys.stderr)
        # Load the models now, so the first person to ask does not wait for them.
        if bot.status()["documents"]:
            bot.search("international AI governance")
    except AccordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: documents finished so far are saved", file=sys.stderr)
        return 130

    if args.host not in LOOPBACK and auth is None:
        print(
            f"warning: serving on {args.host} without a login; set ACCORD_AUTH=user:password "
            "to require one",
            file=sys.stderr,
        )

    if auth is not None and api_key is None:
        print(
            "warning: ACCORD_AUTH is set but ACCORD_API_KEY is not: the API (/v1) and the MCP "
            "tools (/mcp) refuse every request until it is",
            file=sys.stderr,
        )

    from bot.ui import launch

    try:
        launch(
            bot, host=args.host, port=args.port, auth=auth, api_key=api_key, mcp=not args.no_mcp
        )
    except OSError as exc:
        print(
            f"error: cannot serve on {args.host}:{args.port} ({exc}); is the port in use? "
            "Pick another with --port",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
