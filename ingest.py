"""Ingest documents into Accord's index: python ingest.py [PATH_OR_URL ...]"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ingest.py",
        description="Load, chunk, embed and store documents (markdown, text, HTML, PDF, URLs). "
        "Incremental: unchanged documents are skipped without re-embedding.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        help="files, folders (walked recursively) or http(s) URLs; "
        "default: the shipped corpus/ (ACCORD_CORPUS_DIR)",
    )
    parser.add_argument(
        "--no-prune",
        dest="prune",
        action="store_false",
        help="keep documents that disappeared from an ingested folder (pruning is on by "
        "default: a file deleted from a folder you ingest again is removed from the index)",
    )
    parser.add_argument("--rebuild", action="store_true", help="empty the index and start over")
    parser.add_argument(
        "--data-dir", help="where the index lives (default ./data, ACCORD_DATA_DIR)"
    )
    parser.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--catalog-url",
        help="keep the catalog in PostgreSQL, shared by several page servers, e.g. "
        "postgresql://accord:secret@db:5432/accord (ACCORD_CATALOG_URL)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    from bot import AccordError, Bot  # after parsing: --help and usage errors stay instant

    try:
        bot = Bot(
            data_dir=args.data_dir, chroma_url=args.chroma_url, catalog_url=args.catalog_url
        )
        report = bot.ingest(
            args.paths or None,
            prune=args.prune,
            rebuild=args.rebuild,
            progress=not args.quiet,
            on_wait=lambda message: print(message, file=sys.stderr, flush=True),
        )
    except AccordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: documents finished so far are saved; run again to complete",
            file=sys.stderr,
        )
        return 130
    for source, reason in report.failed:
        print(f"failed: {source}: {reason}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
