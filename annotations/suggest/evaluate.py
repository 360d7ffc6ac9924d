"""Quality report of the suggestion rules against the hand-labelled sample.

    python -m annotations.suggest.evaluate [--gold PATH] [--json]

Per language and split (``dev`` = first half of each language's units in page
order, used while writing the rules; ``test`` = second half, held out) it
prints: cue-span and source-span F1 (exact match and token overlap, Arabic
proclitics split), `is_attributed` accuracy, commitment and source-type
accuracy, verifiability accuracy and macro-F1 of the rule baseline, and the
detector's throughput in sentences per second.

Span F1 counts one span per unit: precision over units with a predicted span,
recall over units with a gold span. It is ``None`` (undefined) when neither
side has a span, and 0 when only the detector has some.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import suggest_labels
from .attribution import suggest_attribution
from .text import tokens

DEFAULT_GOLD = Path(__file__).resolve().parents[2] / "tests/data/suggest/attribution_gold.jsonl"


def load_gold(path: Path | str | None = None) -> list[dict[str, Any]]:
    with open(path or DEFAULT_GOLD, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _prf(tp: float, n_pred: float, n_gold: float) -> dict[str, Any]:
    p = tp / n_pred if n_pred else None
    r = tp / n_gold if n_gold else None
    if not n_pred and not n_gold:
        f1 = None
    elif not p or not r:
        f1 = 0.0
    else:
        f1 = 2 * p * r / (p + r)
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "pred": n_pred, "gold": n_gold}


def span_scores(
    items: Iterable[tuple[str, list[int] | None, list[int] | None]],
) -> dict[str, dict[str, Any]]:
    """Exact and token-overlap P/R/F1 over ``(text, gold_span, pred_span)`` items."""
    ex_tp = ex_pred = ex_gold = 0
    tk_tp = tk_pred = tk_gold = 0
    for text, gold, pred in items:
        ex_pred += pred is not None
        ex_gold += gold is not None
        ex_tp += gold is not None and pred is not None and list(gold) == list(pred)
        toks = tokens(text)
        g = {t for t in toks if gold and t[0] < gold[1] and t[1] > gold[0]}
        p = {t for t in toks if pred and t[0] < pred[1] and t[1] > pred[0]}
        tk_tp += len(g & p)
        tk_pred += len(p)
        tk_gold += len(g)
    return {"exact": _prf(ex_tp, ex_pred, ex_gold), "token": _prf(tk_tp, tk_pred, tk_gold)}


def macro_f1(gold: list[str], pred: list[str]) -> float:
    labels = sorted(set(gold) | set(pred))
    scores = []
    for lab in labels:
        tp = sum(g == p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(p == lab and g != lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def _acc(pairs: list[tuple[Any, Any]]) -> float | None:
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else None


def evaluate(
    records: list[dict[str, Any]], registry: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Figures per ``"<language>/<split>"`` group (and ``"<language>/all"``)."""
    groups: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = defaultdict(list)
    for rec in records:
        labels = suggest_labels(rec["text"], rec["language"], registry).labels
        for key in (f"{rec['language']}/{rec['split']}", f"{rec['language']}/all"):
            groups[key].append((rec, labels))
    out = {}
    for key, rows in sorted(groups.items()):
        gold_v = [g["verifiability"] for g, _ in rows]
        pred_v = [p["verifiability"] for _, p in rows]
        both_attr = [(g, p) for g, p in rows if g["is_attributed"] and p["is_attributed"]]
        out[key] = {
            "units": len(rows),
            "attributed_gold": sum(g["is_attributed"] for g, _ in rows),
            "attributed_pred": sum(p["is_attributed"] for _, p in rows),
            "is_attributed_accuracy": _acc(
                [(g["is_attributed"], p["is_attributed"]) for g, p in rows]
            ),
            "cue_span": span_scores((g["text"], g["cue_span"], p.get("cue_span")) for g, p in rows),
            "source_span": span_scores(
                (g["text"], g["source_span"], p.get("source_span")) for g, p in rows
            ),
            "hedge_span": span_scores(
                (g["text"], g["hedge_span"], p.get("hedge_span")) for g, p in rows
            ),
            "frame_outside_unit_accuracy": _acc(
                [(g["frame_outside_unit"], p["frame_outside_unit"]) for g, p in rows]
            ),
            "commitment_accuracy": _acc([(g["commitment"], p["commitment"]) for g, p in rows]),
            "source_type_accuracy_on_attributed": _acc(
                [(g["source_type"], p.get("source_type")) for g, p in both_attr]
            ),
            "source_named_accuracy_on_attributed": _acc(
                [(g["source_named"], p.get("source_named")) for g, p in both_attr]
            ),
            "author_stance_accuracy": _acc(
                [(g["author_stance"], p["author_stance"]) for g, p in rows]
            ),
            "loaded_language_accuracy": _acc(
                [(g["loaded_language"], p["loaded_language"]) for g, p in rows]
            ),
            "verifiability_accuracy": _acc(list(zip(gold_v, pred_v, strict=True))),
            "verifiability_macro_f1": macro_f1(gold_v, pred_v),
        }
    return out


def throughput(
    texts: list[str], language: str, seconds: float = 1.0, rounds: int = 5
) -> dict[str, float]:
    """Sentences per CPU-second (one core) of the attribution detector and of the full
    suggestion, cycling over ``texts``: the best of ``rounds`` runs of ``seconds / rounds``
    each, timed in CPU time so that other load on a shared machine counts as little as
    possible (the best-of-N practice `timeit` recommends)."""
    result = {}
    for name, fn in (("attribution", suggest_attribution), ("suggest_labels", suggest_labels)):
        best = 0.0
        for _ in range(rounds):
            n = 0
            start = time.process_time()
            while time.process_time() - start < seconds / rounds:
                for t in texts:
                    fn(t, language)
                n += len(texts)
            best = max(best, n / (time.process_time() - start))
        result[name] = best
    return result


def classifier_report(
    records: list[dict[str, Any]], seed: int = 0, use_embeddings: bool = False, batch: int = 10
) -> dict[str, Any]:
    """The trained classifier on the same sample: fit on the dev half, score the test
    half (against the rules on that half), a cross-validated learning curve, and the
    uncertainty-sampling simulation over all units."""
    from . import classifier as clf

    texts = [r["text"] for r in records]
    labels = [r["verifiability"] for r in records]
    emb = clf.embed(texts) if use_embeddings else None
    dev = [i for i, r in enumerate(records) if r["split"] == "dev"]
    test = [i for i, r in enumerate(records) if r["split"] == "test"]
    model = clf.train_verifiability(
        [texts[i] for i in dev], [labels[i] for i in dev],
        embeddings=None if emb is None else emb[dev], seed=seed,
    )  # fmt: skip
    pred = model.predict([texts[i] for i in test], None if emb is None else emb[test])
    out: dict[str, Any] = {"calibrated": model.calibrated, "train_units": len(dev)}
    for lang in ("en", "ar", "all"):
        idx = [k for k, i in enumerate(test) if lang == "all" or records[i]["language"] == lang]
        gold = [labels[test[k]] for k in idx]
        rules = [
            suggest_labels(texts[test[k]], records[test[k]]["language"]).labels["verifiability"]
            for k in idx
        ]
        out[f"test_macro_f1_{lang}"] = {
            "classifier": macro_f1(gold, [pred[k] for k in idx]),
            "rules": macro_f1(gold, rules),
        }
    out["learning_curve"] = clf.learning_curve(texts, labels, [25, 50, 100, 150, 200], seed=seed)
    out["uncertainty_sampling"] = clf.simulate_uncertainty_sampling(
        texts, labels, seed=seed, batch=batch
    )
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "  n/a"
    return f"{v:5.3f}" if isinstance(v, float) else str(v)


def report(figures: dict[str, dict[str, Any]], speed: dict[str, dict[str, float]]) -> str:
    cols = [k for k in figures if not k.endswith("/all")]
    lines = ["metric".ljust(34) + "".join(c.rjust(10) for c in cols)]

    def row(name: str, getter: Any) -> None:
        lines.append(name.ljust(34) + "".join(_fmt(getter(figures[c])).rjust(10) for c in cols))

    row("units", lambda f: f["units"])
    row("attributed (gold / pred)", lambda f: f"{f['attributed_gold']}/{f['attributed_pred']}")
    row("is_attributed accuracy", lambda f: f["is_attributed_accuracy"])
    for span in ("cue_span", "source_span", "hedge_span"):
        for mode in ("exact", "token"):
            row(f"{span} F1 ({mode})", lambda f, s=span, m=mode: f[s][m]["f1"])
    row("frame_outside_unit accuracy", lambda f: f["frame_outside_unit_accuracy"])
    row("commitment accuracy", lambda f: f["commitment_accuracy"])
    row("source_type acc (both attributed)", lambda f: f["source_type_accuracy_on_attributed"])
    row("source_named acc (both attributed)", lambda f: f["source_named_accuracy_on_attributed"])
    row("author_stance accuracy", lambda f: f["author_stance_accuracy"])
    row("loaded_language accuracy", lambda f: f["loaded_language_accuracy"])
    row("verifiability accuracy", lambda f: f["verifiability_accuracy"])
    row("verifiability macro-F1", lambda f: f["verifiability_macro_f1"])
    for lang, s in speed.items():
        lines.append(
            f"throughput {lang}: attribution {s['attribution']:,.0f} sentences/s, "
            f"suggest_labels {s['suggest_labels']:,.0f} sentences/s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per throughput run")
    parser.add_argument(
        "--classifier", action="store_true", help="also train and score the classifier (slow)"
    )
    parser.add_argument(
        "--embeddings", action="store_true", help="with --classifier: add USE embeddings"
    )
    args = parser.parse_args(argv)
    records = load_gold(args.gold)
    figures = evaluate(records)
    speed = {
        lang: throughput([r["text"] for r in records if r["language"] == lang], lang, args.seconds)
        for lang in sorted({r["language"] for r in records})
    }
    clf_figures = (
        classifier_report(records, use_embeddings=args.embeddings) if args.classifier else None
    )
    if args.json:
        print(json.dumps({"figures": figures, "throughput": speed, "classifier": clf_figures},
                         indent=2))  # fmt: skip
        return 0
    print(report(figures, speed))
    if clf_figures:
        sim = clf_figures["uncertainty_sampling"]
        print(f"classifier (trained on dev, calibrated={clf_figures['calibrated']}), "
              "verifiability macro-F1 on test:")  # fmt: skip
        for lang in ("en", "ar", "all"):
            f = clf_figures[f"test_macro_f1_{lang}"]
            print(f"  {lang}: classifier {f['classifier']:.3f}, rules {f['rules']:.3f}")
        curve = ", ".join(f"{p['n']}: {p['macro_f1']:.3f}" for p in clf_figures["learning_curve"])
        print(f"learning curve (labels: CV macro-F1): {curve}")
        print(
            f"uncertainty sampling: target macro-F1 {sim['target_macro_f1']:.3f}; "
            f"most-uncertain-first needs {sim['uncertainty']['labels_to_target']} labels, "
            f"random order {sim['random']['labels_to_target']}; saved {sim['labels_saved']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
