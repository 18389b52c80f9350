#!/usr/bin/python3
"""Print iae/PyTorch ratios from the JSON files of 'iae bench' and the
PyTorch reference's 'bench' command, measured alternately by compare.sh.

Usage: compare.py OUT_DIR
OUT_DIR holds iae-B-R.json, torch-batched-B-R.json and torch-torch-B-R.json
for batch sizes B and rounds R, and optionally rss-*.txt (peak resident
memory in KiB from /usr/bin/time). Ratios below 1 mean iae is faster.
"""

import glob
import json
import os
import re
import statistics
import sys

ENCODER_OPS = 12  # conv1 .. pool of conv3, the ops before the LSTM


def load(pattern):
    runs = {}
    for path in sorted(glob.glob(pattern)):
        m = re.search(r"-(\d+)-(\d+)\.json$", path)
        with open(path) as handle:
            runs.setdefault(int(m.group(1)), []).append(json.load(handle))
    return runs


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def iae_figures(run, batch):
    b = next(x for x in run["batches"] if x["batch_size"] == batch)
    ops = b["ops"]
    lstm = next(o for o in ops if o["name"] == "lstm")
    fc1 = next(o for o in ops if o["name"] == "fc1")
    fc1_index = ops.index(fc1)
    fb = lambda o: o["forward_s"] + o["backward_s"]
    return {
        "IAE-LSTM-KL train step": b["iae_step"]["fused fp32"]["median_s"],
        "IAE-LSTM-KL train step, bf16 W_hh": b["iae_step"]["fused bf16"]["median_s"],
        "autoencoder train step": b["ae_step"]["median_s"],
        "encoder convs fwd+bwd": sum(fb(o) for o in ops[:ENCODER_OPS]),
        "LSTM fwd+bwd": fb(lstm),
        "fc1 fwd+bwd": fb(fc1),
        "decoder fwd+bwd": sum(fb(o) for o in ops[fc1_index + 1:]),
        "Adam step": b["adam_step"]["median_s"],
        "scoring time per image": 1.0 / b["scoring_images_per_s"]["fused fp32"],
        "scoring time per image, bf16": 1.0 / b["scoring_images_per_s"]["fused bf16"],
    }


def torch_figures(run):
    split = run["split"]
    return {
        "IAE-LSTM-KL train step": run["iae_step"]["median_s"],
        "IAE-LSTM-KL train step, bf16 W_hh": run["iae_step"]["median_s"],
        "autoencoder train step": run["ae_step"]["median_s"],
        "encoder convs fwd+bwd": split["encoder_convs"]["median_s"],
        "LSTM fwd+bwd": split["lstm"]["median_s"],
        "fc1 fwd+bwd": split["fc1"]["median_s"],
        "decoder fwd+bwd": split["decoder"]["median_s"],
        "Adam step": split["adam_step"]["median_s"],
        "scoring time per image": 1.0 / run["inference"]["iae"]["images_per_s"],
        "scoring time per image, bf16": 1.0 / run["inference"]["iae"]["images_per_s"],
    }


def main():
    out = sys.argv[1]
    iae = load(os.path.join(out, "iae-*-*.json"))
    torch_runs = {impl: load(os.path.join(out, f"torch-{impl}-*-*.json")) for impl in ("batched", "torch")}
    rows = []
    for batch in sorted(iae):
        ours = {}
        for run in iae[batch]:
            for key, value in iae_figures(run, batch).items():
                ours.setdefault(key, []).append(value)
        print(f"\nbatch {batch}: median over {len(iae[batch])} alternating rounds, times in ms")
        header = f"{'figure':36s} {'iae':>9s}"
        for impl in ("batched", "torch"):
            header += f" {'torch ' + impl:>14s} {'iae/torch':>9s}"
        print(header)
        for key in ours:
            value = median(ours[key])
            line = f"{key:36s} {value * 1e3:9.2f}"
            row = {"batch": batch, "figure": key, "iae_s": value}
            for impl in ("batched", "torch"):
                runs = torch_runs[impl].get(batch, [])
                ref = median([torch_figures(r)[key] for r in runs]) if runs else None
                if ref:
                    line += f" {ref * 1e3:14.2f} {value / ref:9.3f}"
                    row[f"torch_{impl}_s"] = ref
                else:
                    line += f" {'-':>14s} {'-':>9s}"
            print(line)
            rows.append(row)
    for path in sorted(glob.glob(os.path.join(out, "rss-*.txt"))):
        with open(path) as handle:
            kib = int(handle.read().split()[-1])
        print(f"peak resident memory, {os.path.basename(path)[4:-4]}: {kib / 1024:.0f} MiB")
    with open(os.path.join(out, "ratios.json"), "w") as handle:
        json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
