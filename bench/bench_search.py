"""Search speed and the cost of keeping its index, side by side in one run; and the choice of CJK tokenization.

Run: python bench/bench_search.py [DATABASE]     (a database it built before is reused; building takes minutes)
     python bench/bench_search.py --tokenizers   (bigrams against jieba: recall and speed, on real titles)

Targets (issue 18), on the 100,000-item bench outline plus 30,000 papers with abstracts and 10,000 page texts:
- a search in a warm process: median <= 30 ms over a mix of queries;
- the whole `tracker search QUERY --json` process: <= 1.3 x the import floor (`python -c "import sqlmodel,
  typer"`), as `progress` is measured in bench_progress.py (medians of runs taken in turns with the floor);
- the first import of the 100,000 entries: at most 30 % slower with the index than without it, under 10 s.
The machine's two cores are shared: every pair of figures is taken in turns, and CPU seconds are printed
beside wall seconds.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_progress import FLOOR, medians  # noqa: E402
from bench.gen_outline import generate  # noqa: E402

NOW = datetime(2026, 11, 25)
PAPERS, PAGES = 30_000, 10_000
ZH = ("卷积", "神经网络", "梯度", "下降", "学习率", "正则化", "过拟合", "损失函数", "优化", "批归一化", "注意力",
      "机制",
      "模型", "训练", "数据", "特征", "参数", "权重", "网络", "结构", "层", "激活函数", "反向传播", "池化", "残差",
      "生成", "对抗", "强化学习", "策略", "图", "为什么", "如何", "理解", "效果", "问题", "方法", "的", "是", "在",
      "我们", "可以", "这个", "一个", "通过", "因为", "所以", "但是", "就是", "比较", "更好")
EN = ("the", "network", "gradient", "descent", "learning", "rate", "batch", "normalization", "normalize",
      "dropout", "attention", "transformer", "convolution", "layer", "loss", "training", "model", "data",
      "regularization", "residual", "graph", "policy", "reward", "we", "propose", "method", "results", "show",
      "performance", "improves", "deep", "neural", "optimization", "stochastic", "variance", "generalization")
QUERIES = (
    ("卷积", {}), ("梯度下降", {}), ("正则化", {}), ("批归一化", {}), ("normalization", {}), ("attention", {}),
    ("BN 为什么有效", {}), ('"gradient descent"', {}), ("learning rate", {}), ("dropout -卷积", {}),
    ("transformer", {"kind": "paper"}), ("残差 网络", {"field": "text"}), ("policy", {"status": "digested"}),
    ("variance", {"field": "abstract"}), ("stochastic optimization", {}), ("池化", {"status": "unread"}),
)


def sentence(rng: random.Random) -> str:
    """A sentence of a Chinese answer with English terms in it, as Zhihu and CSDN pages read."""
    words = [rng.choice(ZH) if rng.random() < 0.75 else f" {rng.choice(EN)} " for _ in range(rng.randrange(8, 30))]
    return "".join(words).strip() + rng.choice("。，？！")


def page_text(rng: random.Random) -> str:
    """2,000 to 12,000 characters of page text."""
    size, parts = rng.randrange(2_000, 12_000), []
    while sum(map(len, parts)) < size:
        parts.append(sentence(rng))
    return "".join(parts)


def abstract(rng: random.Random) -> str:
    """An English abstract of about 150 words."""
    return " ".join(rng.choice(EN) for _ in range(150)).capitalize() + "."


def build(db: Path) -> None:
    """Import the 100,000-entry outline, store 30,000 papers and keep 10,000 page texts, through the tracker."""
    from tests.papers.records_factory import record
    from tracker.papers.store import store_papers
    from tracker.store import db as dbmod
    from tracker.store.pagetext import keep_text

    outline = db.with_suffix(".md")
    outline.write_text(generate(100_000), encoding="utf-8")
    env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "tracker", "import", str(outline)], env=env, check=True,
                   capture_output=True)
    rng = random.Random(18)
    database = dbmod.open_db(f"sqlite:///{db}")
    for start in range(0, PAPERS, 2_000):
        records = [record(f"25{(i // 99_999) + 1:02d}.{i % 99_999 + 1:05d}", title=" ".join(rng.sample(EN, 8)),
                          abstract=abstract(rng), published=NOW - timedelta(minutes=i))
                   for i in range(start, start + 2_000)]
        with database.write() as conn:
            store_papers(conn, records, NOW)
    with database.read() as conn:
        pages = [row[0] for row in conn.exec_driver_sql(
            "SELECT id FROM item WHERE source = 'outline' AND url NOT LIKE '%arxiv%' ORDER BY id LIMIT ?", (PAGES,))]
    for start in range(0, len(pages), 500):
        with database.write() as conn:
            for item_id in pages[start:start + 500]:
                keep_text(conn, item_id, page_text(rng), NOW)
    with database.write() as conn:  # half the list digested, as in the progress bench
        conn.exec_driver_sql("UPDATE item SET status = 'digested' WHERE id % 2 = 0 AND source = 'outline'")
    database.close()


def warm(db: Path) -> dict[str, float]:
    """Median milliseconds of each query in one process, after a first run of each."""
    from tracker.search import search_database
    from tracker.store import db as dbmod

    database = dbmod.open_db(f"sqlite:///{db}")
    out = {}
    for query, options in QUERIES:
        search_database(database, query, **options)
        times = []
        for _ in range(7):
            start = time.perf_counter()
            search_database(database, query, **options)
            times.append((time.perf_counter() - start) * 1000)
        out[f"{query} {options or ''}".strip()] = statistics.median(times)
    database.close()
    return out


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def imports(tmp: Path, runs: int = 3) -> dict[str, tuple[float, float]]:
    """First import of the 100,000 entries into a fresh database, with and without the index, in turns.

    "Without" is the same database with the index's tables, views and triggers dropped before the import.
    Returns the median (wall seconds, CPU seconds) of each.
    """
    from tracker.store import db as dbmod

    outline = tmp / "import.md"
    outline.write_text(generate(100_000), encoding="utf-8")
    times: dict[str, list[tuple[float, float]]] = {"without index": [], "with index": []}
    for n in range(runs):
        for name in times:
            db = tmp / f"import-{n}-{name.split()[0]}.db"
            dbmod.open_db(f"sqlite:///{db}").close()
            if name == "without index":
                import sqlite3

                with sqlite3.connect(db) as conn:
                    for kind, obj in conn.execute("SELECT type, name FROM sqlite_master WHERE name LIKE 'search%' "
                                                  "AND type IN ('trigger', 'view')").fetchall():
                        conn.execute(f'DROP {kind.upper()} "{obj}"')
                    for table in ("search_index", "search_topic", "search_pending", "search_state"):
                        conn.execute(f"DROP TABLE {table}")
            env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
            cpu, start = _child_cpu(), time.perf_counter()
            subprocess.run([sys.executable, "-m", "tracker", "import", str(outline), "--json"], env=env, check=True,
                           capture_output=True)
            times[name].append((time.perf_counter() - start, _child_cpu() - cpu))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    return {name: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for name, v in times.items()}


def real_titles() -> list[str]:
    """Titles people wrote: every entry of the shipped outlines and the classifier's development set."""
    import re

    titles = []
    for outline in sorted((ROOT / "seeds").glob("*.md")):
        titles += re.findall(r"^\s*[-*+] .*?\[([^\]]+)\]", outline.read_text(encoding="utf-8"), re.M)
    dev = (ROOT / "tests" / "data" / "classify_dev.tsv").read_text(encoding="utf-8")
    titles += [line.split("\t")[0] for line in dev.splitlines() if line.strip()]
    return titles


def tokenizers() -> dict[str, str]:
    """Each way of cutting Chinese for the index: its transform of a text, and of a query."""
    import jieba  # measured here only; not a dependency of the tracker

    from tracker.search.words import CJK_RUN, index_words

    jieba.setLogLevel(60)
    return {
        "bigrams": (index_words, index_words),
        "unigrams": ((lambda t: CJK_RUN.sub(lambda m: " " + " ".join(m.group()) + " ", t)),) * 2,
        "jieba": ((lambda t: " ".join(jieba.cut_for_search(t))), (lambda q: " ".join(jieba.cut(q)))),
    }


def compare_tokenizers() -> None:
    """Recall and precision of every Chinese substring query on real titles, and the time each way takes."""
    import sqlite3

    from tracker.search.words import CJK_RUN

    titles = real_titles()
    queries = sorted({run[i:i + n] for t in titles for run in CJK_RUN.findall(t) for n in (2, 3, 4)
                      for i in range(len(run) - n + 1)})
    rng = random.Random(7)
    pages = [page_text(rng) for _ in range(300)]
    chars = sum(map(len, pages))
    print(f"{len(titles)} real titles, {len(queries)} Chinese queries (every 2-, 3- and 4-character substring); "
          f"speed on {chars / 1e6:.1f} M characters of generated page text")
    for name, (for_text, for_query) in tokenizers().items():
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'porter unicode61 remove_diacritics 2')")
        conn.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)", [(i, for_text(t)) for i, t in enumerate(titles)])
        hit = truth = found = 0
        by_length: dict[int, list[int]] = {}
        start = time.perf_counter()
        for q in queries:
            want = {i for i, t in enumerate(titles) if q in t}
            phrase = '"' + for_query(q).replace('"', '""') + '"'
            got = {row[0] for row in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (phrase,))}
            hit, truth, found = hit + len(got & want), truth + len(want), found + len(got)
            pair = by_length.setdefault(len(q), [0, 0])
            pair[0], pair[1] = pair[0] + len(got & want), pair[1] + len(want)
        per_query = (time.perf_counter() - start) / len(queries) * 1e6
        start = time.perf_counter()
        for page in pages:
            for_text(page)
        rate = chars / (time.perf_counter() - start) / 1e6
        lengths = ", ".join(f"{n} chars {h / t:.1%}" for n, (h, t) in sorted(by_length.items()))
        print(f"  {name:9} recall {hit / truth:.1%} ({lengths}), precision {hit / max(found, 1):.1%}; "
              f"{rate:.2f} M chars/s to prepare text, {per_query:.0f} µs a query")


def main() -> None:
    """Build (or reuse) the database, then print each figure against its target."""
    if "--tokenizers" in sys.argv:
        compare_tokenizers()
        return
    given = [a for a in sys.argv[1:] if not a.startswith("-")]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = Path(given[0]) if given else tmp / "search.db"
        if not db.exists():
            start = time.perf_counter()
            build(db)
            print(f"built {db} in {time.perf_counter() - start:.0f} s", flush=True)
        per_query = warm(db)
        for name, ms in per_query.items():
            print(f"  {ms:7.1f} ms  {name}")
        median = statistics.median(per_query.values())
        print(f"warm search: median {median:.1f} ms over {len(per_query)} queries, slowest "
              f"{max(per_query.values()):.1f} ms (target median <= 30 ms)", flush=True)
        env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
        found = medians({"floor": FLOOR, "search": [sys.executable, "-m", "tracker", "search", "卷积", "--json"]}, env)
        print(f"whole command: floor {found['floor']:.3f} s, `tracker search 卷积 --json` {found['search']:.3f} s, "
              f"ratio {found['search'] / found['floor']:.2f} (target <= 1.30)", flush=True)
        if "--no-import" not in sys.argv:
            figures = imports(tmp)
            plain, indexed = figures["without index"], figures["with index"]
            print(f"first import of 100,000 entries: without index {plain[0]:.2f} s wall / {plain[1]:.2f} s CPU, "
                  f"with index {indexed[0]:.2f} s wall / {indexed[1]:.2f} s CPU: "
                  f"+{(indexed[0] / plain[0] - 1) * 100:.0f} % wall, +{(indexed[1] / plain[1] - 1) * 100:.0f} % CPU "
                  "(target <= +30 %, under 10 s)")


if __name__ == "__main__":
    main()
