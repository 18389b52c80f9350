#!/bin/sh
# Side-by-side timing of iae and a PyTorch implementation of the same
# networks (iae_torch.py, path in TORCH_BENCH), run alternately so that both
# see the same machine conditions, then the iae/PyTorch ratio of every figure.
#
# Usage: bench/compare.sh [OUT_DIR]
# Environment: BATCHES (default "64 128"), ROUNDS (default 2), THREADS
# (default 2), IAE (the iae binary, default build/iae), TORCH_BENCH (path of
# iae_torch.py), NN_LSTM=0 to skip the slow
# nn.LSTM variant, MEMORY=0 to skip the peak-memory runs.
set -eu
out=${1:-build/bench-compare}
batches=${BATCHES:-64 128}
rounds=${ROUNDS:-2}
threads=${THREADS:-2}
nn_lstm=${NN_LSTM:-1}
memory=${MEMORY:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
torch_bench=${TORCH_BENCH:-$here/../shared/bench/iae_torch.py}
# A private copy of the binary, so that rebuilding during the run cannot
# remove it.
mkdir -p "$out"
iae=$out/iae
cp "${IAE:-$here/build/iae}" "$iae"

if [ ! -f "$torch_bench" ]; then
    echo "compare.sh: PyTorch reference not found at $torch_bench; set TORCH_BENCH" >&2
    exit 1
fi
rm -f "$out"/*.json "$out"/rss-*.txt
# Debian's OpenBLAS for PyTorch's BLAS calls, as the reference's README advises.
torch_run() {
    sh "$(dirname "$torch_bench")/with-openblas.sh" /usr/bin/python3 "$torch_bench" "$@"
}

for round in $(seq 1 "$rounds"); do
    for b in $batches; do
        echo "round $round, batch $b: iae" >&2
        "$iae" bench --batch-size "$b" --threads "$threads" --json "$out/iae-$b-$round.json" >/dev/null
        echo "round $round, batch $b: PyTorch, batched LSTM backward" >&2
        torch_run bench --batch-size "$b" --threads "$threads" --lstm-impl batched --no-epoch \
            --json "$out/torch-batched-$b-$round.json" >/dev/null
        if [ "$nn_lstm" = 1 ]; then
            echo "round $round, batch $b: PyTorch, nn.LSTM" >&2
            torch_run bench --batch-size "$b" --threads "$threads" --lstm-impl torch --no-epoch \
                --steps 3 --warmup 1 --split-steps 2 --json "$out/torch-torch-$b-$round.json" >/dev/null
        fi
    done
done

if [ "$memory" = 1 ]; then
    # Peak resident memory of a whole training process: one epoch of class 0.
    for b in $batches; do
        echo "peak memory, batch $b" >&2
        /usr/bin/time -f "%M" -o "$out/rss-iae-train-batch$b.txt" "$iae" train --normal-class 0 \
            --pretrain-epochs 0 --epochs 1 --batch-size "$b" --threads "$threads" --quiet >/dev/null
        /usr/bin/time -f "%M" -o "$out/rss-torch-batched-train-batch$b.txt" sh -c \
            "sh '$(dirname "$torch_bench")/with-openblas.sh' /usr/bin/python3 '$torch_bench' train \
             --epochs-pre 0 --epochs 1 --batch-size $b --threads $threads --lstm-impl batched >/dev/null"
    done
fi
/usr/bin/python3 "$here/bench/compare.py" "$out"
