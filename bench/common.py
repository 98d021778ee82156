"""What every benchmark shares: tables that print and save, timers, percentiles, peak memory."""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
GOVERNANCE = (PROJECT.parent / "shared" / "governance-docs").resolve()
if not GOVERNANCE.is_dir():  # a worktree beside the main checkout
    GOVERNANCE = Path("/work/shared/governance-docs")
CORPUS = PROJECT / "corpus"
PYTHON = sys.executable


@dataclass
class Table:
    """One printed table; ``rows`` are dicts sharing ``columns``' keys."""

    name: str
    title: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, **row) -> None:
        self.rows.append(row)

    def render(self) -> str:
        cells = [[_fmt(r.get(c, "")) for c in self.columns] for r in self.rows]
        widths = [
            max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(self.columns)
        ]
        line = "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(self.columns, widths, strict=True))
        )
        out = [f"\n## {self.title}", line, "-" * len(line)]
        for row in cells:
            out.append(
                "  ".join(
                    v.ljust(w) if i == 0 else v.rjust(w)
                    for i, (v, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        out.extend(f"  · {n}" for n in self.notes)
        return "\n".join(out)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=2, default=str), encoding="utf-8")
        return path


def _fmt(value) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "–"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far. VmHWM, not ru_maxrss: Linux carries a
    parent's ru_maxrss into a child across fork and exec, so a small child of a big benchmark
    process would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    info = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["load_avg"] = os.getloadavg()
    except OSError:
        pass
    from bot.embeddings import native_bf16

    info["native_bf16"] = native_bf16()
    return info


def questions(limit: int | None = None, split: str = "dev") -> list[str]:
    """Questions from both reference sets (the governance one only where its documents are)."""
    out = []
    for name in ("dataset.jsonl", "governance.jsonl"):
        for line in (PROJECT / "evals" / name).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                if split == "all" or row.get("split", "dev") == split:
                    out.append(row["question"])
    return out[:limit] if limit else out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> float:
    """Seconds until ``url`` answers 200 (raises after ``timeout``)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}")
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONPATH=str(PROJECT),
    )
    env.update(extra)
    return env


def stop(proc: subprocess.Popen) -> None:
    """Stop a process this benchmark started."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
