"""Benchmark P6: the full agreement report for 300k items × 3 labels.

Run from the repository root: ``python bench/agreement.py [--items N] [--boot B]``.
Builds a synthetic claim project — every claim field of the default schema, gates obeyed,
annotators with realistic noise (one careless annotator), abstentions, omitted optional
answers, English and Arabic texts with source / cue / hedge / loaded spans that annotators
mark with jittered boundaries (proclitics in or out) — then times ``agreement_report``
(all fields, 95% bootstrap CIs with 1000 draws, kappa, spans, annotators, slices,
majority / Dawid–Skene / MACE aggregation and the review queue) and prints one table row.
Wall and CPU seconds are both printed: the machine is shared, wall time is noisy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from annotations.agreement import DEFAULT_CLAIM_SCHEMA, agreement_report

EN_SOURCES = [
    "The ministry",
    "A military source",
    "Local witnesses",
    "The UN envoy",
    "State media",
    "The observatory",
    "Residents",
    "An analyst",
]
EN_CUES = ["said", "reported", "denied", "claimed", "announced", "confirmed"]
EN_CONTENT = [
    "that two soldiers were killed in the attack on the town",
    "that the convoy reached Khan Shaykhun on Thursday",
    "that the ceasefire terms were violated near Idlib",
    "that 14 civilians were injured in the shelling",
    "that government troops will focus on northern Hama",
]
AR_SOURCES = ["المتحدث باسم الوزارة", "مصدر عسكري", "المرصد السوري", "وكالة الأنباء الرسمية"]
AR_CUES = ["وقال", "وأكد", "ونفى", "وذكرت", "بحسب"]
AR_CONTENT = [
    "أن جنديين قتلا في الهجوم على البلدة",
    "أن القافلة وصلت إلى خان شيخون يوم الخميس",
    "أن شروط وقف إطلاق النار خرقت قرب إدلب",
    "أن 14 مدنيا أصيبوا في القصف",
]
HEDGES_EN = ["reportedly", "allegedly"]
LOADED_EN = ["terrorist", "regime", "so-called"]


def _texts(rng: np.random.Generator, n_variants: int) -> list[dict]:
    """Distinct sentences with the offsets of their parts."""
    out = []
    for v in range(n_variants):
        arabic = v % 3 == 0
        if arabic:
            cue = AR_CUES[v % len(AR_CUES)]
            src = AR_SOURCES[(v // 5) % len(AR_SOURCES)]
            body = AR_CONTENT[(v // 7) % len(AR_CONTENT)]
            text = f"{cue} {src} {body} رقم {v}"
            cue_span = [0, len(cue)]
            s0 = len(cue) + 1
            src_span = [s0, s0 + len(src)]
            hedge = loaded = None
        else:
            src = EN_SOURCES[v % len(EN_SOURCES)]
            cue = EN_CUES[(v // 8) % len(EN_CUES)]
            body = EN_CONTENT[(v // 11) % len(EN_CONTENT)]
            hedge_w = HEDGES_EN[v % 2]
            loaded_w = LOADED_EN[v % 3]
            text = f"{src} {cue} {body}, {hedge_w}, citing the {loaded_w} group (case {v})."
            src_span = [0, len(src)]
            cue_span = [len(src) + 1, len(src) + 1 + len(cue)]
            h0 = text.index(hedge_w)
            hedge = [h0, h0 + len(hedge_w)]
            l0 = text.index(loaded_w)
            loaded = [l0, l0 + len(loaded_w)]
        out.append(
            {
                "text": text,
                "language": "ar" if arabic else "en",
                "source_span": src_span,
                "cue_span": cue_span,
                "hedge_span": hedge,
                "loaded_span": loaded,
            }
        )
    return out


def _choice(rng: np.random.Generator, n: int, choices: list, p: list[float]) -> np.ndarray:
    return rng.choice(len(choices), size=n, p=np.asarray(p) / np.sum(p))


def build(n_items: int, seed: int = 7) -> tuple[list[dict], dict]:
    rng = np.random.default_rng(seed)
    n_ann = 40
    variants = _texts(rng, 3000)
    var = rng.integers(0, len(variants), n_items)
    outlets = [f"outlet-{i:02d}" for i in range(25)]
    outlet = rng.integers(0, len(outlets), n_items)
    version = np.where(rng.random(n_items) < 0.8, "1", "2")
    S = DEFAULT_CLAIM_SCHEMA
    truth = {
        "is_attributed": rng.random(n_items) < 0.55,
        "frame_outside_unit": rng.random(n_items) < 0.2,
        "source_type": _choice(
            rng,
            n_items,
            S["source_type"]["choices"],
            [2, 10, 6, 8, 4, 3, 4, 5, 3, 3, 2, 2, 2, 4, 1],
        ),
        "source_named": _choice(rng, n_items, ["yes", "no"], [6, 4]),
        "commitment": _choice(
            rng, n_items, ["asserts", "denies", "hedged", "uncommitted"], [70, 8, 12, 10]
        ),
        "author_stance": _choice(rng, n_items, ["neutral", "distancing", "endorsing"], [80, 14, 6]),
        "verifiability": _choice(
            rng,
            n_items,
            ["checkable_fact", "prediction", "opinion", "rhetoric_nonclaim"],
            [55, 10, 22, 13],
        ),
        "speech_act_checkable": rng.random(n_items) < 0.5,
        "loaded_language": rng.random(n_items) < 0.15,
        "loaded_by": _choice(rng, n_items, ["author", "source"], [3, 7]),
        "check_worthiness": rng.integers(1, 6, n_items),
        "claim_types": rng.integers(1, 32, n_items),  # bitmask over 5 types
        "hedged": rng.random(n_items) < 0.1,
    }
    types = S["claim_types"]["choices"]
    # annotators: 3 distinct per item; annotator 0 is careless, 1 is slow
    ann = np.argsort(rng.random((n_items, n_ann)), axis=1)[:, :3]
    acc = np.full(n_ann, 0.9)
    acc[0] = 0.45
    acc[2:6] = 0.8
    item_rep = np.repeat(np.arange(n_items), 3)
    a_flat = ann.ravel()
    nrow = a_flat.size
    right = rng.random((nrow, 16)) < acc[a_flat][:, None]

    def noisy(col: int, true_codes: np.ndarray, n_choices: int) -> np.ndarray:
        t = true_codes[item_rep]
        return np.where(right[:, col], t, rng.integers(0, n_choices, nrow))

    lab = {
        "is_attributed": noisy(0, truth["is_attributed"].astype(int), 2).astype(bool),
        "frame_outside_unit": noisy(1, truth["frame_outside_unit"].astype(int), 2).astype(bool),
        "source_type": noisy(2, truth["source_type"], 15),
        "source_named": noisy(3, truth["source_named"], 2),
        "commitment": noisy(4, truth["commitment"], 4),
        "author_stance": noisy(5, truth["author_stance"], 3),
        "verifiability": noisy(6, truth["verifiability"], 4),
        "speech_act_checkable": noisy(7, truth["speech_act_checkable"].astype(int), 2).astype(bool),
        "loaded_language": noisy(8, truth["loaded_language"].astype(int), 2).astype(bool),
        "loaded_by": noisy(9, truth["loaded_by"], 2),
        "claim_types": np.where(
            right[:, 10],
            truth["claim_types"][item_rep],
            truth["claim_types"][item_rep] ^ (1 << rng.integers(0, 5, nrow)),
        ),
    }
    cw = truth["check_worthiness"][item_rep] + np.where(right[:, 11], 0, rng.integers(-1, 2, nrow))
    lab["check_worthiness"] = np.clip(cw, 1, 5)
    abstain = rng.random(nrow)
    omit = rng.random((nrow, 4)) < 0.02
    jitter = rng.random((nrow, 4))
    seconds = rng.gamma(4.0, 6.0, nrow) * np.where(a_flat == 1, 2.5, 1.0)
    st_names = [*S["source_type"]["choices"][1:], "author"]
    named = ["yes", "no"]
    commit = ["asserts", "denies", "hedged", "uncommitted"]
    stance = ["neutral", "distancing", "endorsing"]
    verif = ["checkable_fact", "prediction", "opinion", "rhetoric_nonclaim"]
    loaded_by = ["author", "source"]
    masks = [[types[b] for b in range(5) if m >> b & 1] for m in range(32)]

    def jittered(span: list[int] | None, j: float) -> list[int] | None:
        if span is None:
            return None
        if j < 0.07:
            return None  # not marked
        if j < 0.17:
            return [span[0] + 1, span[1]]  # start moved by a character (proclitic out)
        if j < 0.22:
            return [span[0], span[1] + 4]
        return list(span)

    records = []
    texts = {}
    for r in range(nrow):
        i = int(item_rep[r])
        v = variants[var[i]]
        texts[i] = v["text"]
        attributed = bool(lab["is_attributed"][r])
        labels: dict = {"is_attributed": attributed}
        if attributed:
            labels["source_span"] = jittered(v["source_span"], jitter[r, 0])
            labels["cue_span"] = jittered(v["cue_span"], jitter[r, 1])
            labels["frame_outside_unit"] = bool(lab["frame_outside_unit"][r])
            labels["source_type"] = st_names[lab["source_type"][r]]
            labels["source_named"] = "n/a" if abstain[r] < 0.02 else named[lab["source_named"][r]]
            labels["author_stance"] = stance[lab["author_stance"][r]]
        vf = "cannot_judge" if abstain[r] > 0.97 else verif[lab["verifiability"][r]]
        labels["verifiability"] = vf
        labels["commitment"] = "n/a" if vf == "cannot_judge" else commit[lab["commitment"][r]]
        if truth["hedged"][i] and v["hedge_span"] is not None:
            labels["hedge_span"] = jittered(v["hedge_span"], jitter[r, 2])
        if not omit[r, 0]:
            labels["speech_act_checkable"] = bool(lab["speech_act_checkable"][r])
        if vf == "checkable_fact" and not omit[r, 1]:
            labels["claim_types"] = masks[lab["claim_types"][r]]
        loaded = bool(lab["loaded_language"][r])
        labels["loaded_language"] = loaded
        if loaded:
            labels["loaded_span"] = jittered(v["loaded_span"], jitter[r, 3])
            labels["loaded_by"] = loaded_by[lab["loaded_by"][r]]
        if not omit[r, 2]:
            labels["check_worthiness"] = int(lab["check_worthiness"][r])
        records.append(
            {
                "item": i,
                "annotator": f"ann{int(a_flat[r]):02d}",
                "labels": labels,
                "seconds": float(seconds[r]),
                "language": v["language"],
                "outlet": outlets[outlet[i]],
                "schema_version": str(version[i]),
            }
        )
    gold_items = {
        i: {
            "verifiability": verif[truth["verifiability"][i]],
            "is_attributed": bool(truth["is_attributed"][i]),
        }
        for i in range(0, n_items, 100)
    }
    return records, {"texts": texts, "gold_items": gold_items}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=300_000)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--json", help="write the report here")
    args = ap.parse_args()
    t = time.perf_counter()
    records, extra = build(args.items)
    gen = time.perf_counter() - t
    print(
        f"generated {len(records):,} labels for {args.items:,} items in {gen:.1f} s",
        file=sys.stderr,
    )
    # crowd-kit's package import pulls in scipy.stats and nltk (about 2–3 s). A worker pays it
    # once per process, not per report, so it is timed here on its own.
    t = time.perf_counter()
    import crowdkit.aggregation  # noqa: F401

    imp = time.perf_counter() - t
    # Building 2.7M record objects leaves the cyclic collector a full pass due; it would
    # fire inside whatever runs next. Settle it here and print it apart: it is the cost of
    # holding the records (a caller pays it once, when it builds them), not of the report,
    # which pauses the collector while it works.
    t = time.perf_counter()
    gc.collect()
    gc_debt = time.perf_counter() - t
    load_before = os.getloadavg()[0]
    t, c = time.perf_counter(), time.process_time()
    report = agreement_report(
        records, texts=extra["texts"], gold_items=extra["gold_items"], n_boot=args.boot
    )
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    json.dumps(report, allow_nan=False)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1)
    tm = report["meta"]["timings"]
    tc = report["meta"]["cpu_timings"]
    parts = [
        "encode",
        "alpha",
        "kappa",
        "spans",
        "annotators",
        "confusion",
        "slices",
        "aggregation",
        "review_queue",
    ]
    print(
        f"seconds per part: wall (CPU); crowd-kit import {imp:.2f} s and the generator's "
        f"pending full garbage collection {gc_debt:.2f} s, not included; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after",
        file=sys.stderr,
    )
    print(
        "| figure | items | labels | "
        + " | ".join(parts)
        + " | total wall s | total CPU s | target |"
    )
    print("|---" * (len(parts) + 6) + "|")
    print(
        f"| P6 agreement report | {args.items:,} | {len(records):,} | "
        + " | ".join(f"{tm.get(p, 0):.2f} ({tc.get(p, 0):.2f})" for p in parts)
        + f" | {wall:.2f} | {cpu:.2f} | ≤ 30 s |"
    )
    agg = report.get("aggregation", {})
    fit = {k: v["fit_seconds"] for k, v in agg.items()}
    print(
        "aggregation fit seconds per field (crowd-kit DS + MACE on the fitting sample): "
        + ", ".join(f"{k} {v:.2f}" for k, v in fit.items()),
        file=sys.stderr,
    )
    print(
        "alpha: " + ", ".join(f"{k} {v['alpha']}" for k, v in report["fields"].items()),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
