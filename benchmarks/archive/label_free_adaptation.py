"""Prototype (not in the library yet): does a label-free fine-tune of EfficientNet-Lite0's last stages close the gap
between what its features know (linear probe) and what the default clustering shows on colour images?

Recipe (SCAN's clustering step, Van Gansbeke et al. 2020, with the backbone's last stages trainable, CPU-sized):
the frozen stages run once on the images and on ``--copies`` augmented copies (random crops of half to all of the
area, flips), their activations cached in memory; stages ``--train-from``..6, the 1×1 head and a k-way linear
cluster head are trained for ``--epochs`` with SCAN's loss (an anchor's copy and a copy of one of its 20 nearest
neighbours in the frozen features agree; entropy of the mean prediction, weight 5). Then the pooled head features
of the un-augmented images go through the default clustering (L2, PCA 50, UMAP 10, k-means).

    python -m benchmarks.archive.label_free_adaptation --sets emoji --train-from 5 --epochs 10 --seeds 0 1

Superseded by the library method (`--method adapt`, :class:`deepclust.deep.AdaptedClustering`), measured by
`python -m benchmarks.colour_panel --variants adapt`; kept to reproduce its results file.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._harness import (
    command_line,
    machine,
    markdown_table,
    parser,
    peak_rss_mb,
    scores,
    seeds_of,
    today,
    versions,
    write_results,
)
from benchmarks.colour_panel import load_set


def random_crops(batch, rng):
    """A random crop of half to all of each image's area, flipped half the time, resized back."""
    from PIL import Image

    out = np.empty_like(batch)
    n = batch.shape[1]
    for i, image in enumerate(batch):
        side = int(n * np.sqrt(rng.uniform(0.5, 1.0)))
        a, b = rng.randint(0, n - side + 1, 2)
        crop = image[a:a + side, b:b + side]
        if rng.rand() < 0.5:
            crop = crop[:, ::-1]
        out[i] = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((n, n), Image.Resampling.BILINEAR))
    return out


def adapt(X, y, *, seed, copies, epochs, lr, train_from, batch=128, log=print):
    import torch
    import torch.nn.functional as F

    from deepclust.cluster import FeatureClustering
    from deepclust.features import create_extractor
    from deepclust.features._registry import _builder, get_extractor_spec

    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    k, n = len(np.unique(y)), len(X)
    net = _builder("efficientnet_lite0")(get_extractor_spec("efficientnet_lite0"), "pool", None,
                                         classifier=True).eval()
    prep = create_extractor("efficientnet_lite0", input_size=224, device="cpu").preprocess
    trainable = [net.blocks[s] for s in range(train_from, 7)] + [net.conv_head, net.bn2]

    def trunk(x):
        x = net.bn1(net.conv_stem(x))
        for s in range(train_from):
            x = net.blocks[s](x)
        return x

    def top(x):
        for s in range(train_from, 7):
            x = net.blocks[s](x)
        return net.bn2(net.conv_head(x)).mean((2, 3))

    def embed(base):
        for m in trainable:
            m.eval()
        with torch.inference_mode():
            return torch.cat([top(base[a:a + 64]) for a in range(0, n, 64)])

    t = time.perf_counter()
    with torch.inference_mode():
        base = torch.cat([trunk(prep(X[a:a + 64])) for a in range(0, n, 64)])
        views = torch.stack([torch.cat([trunk(prep(random_crops(X[a:a + 64], rng))) for a in range(0, n, 64)])
                             for _ in range(copies)])
    frozen = embed(base)
    row = {"seed": seed, "cache_s": round(time.perf_counter() - t, 1)}
    row["frozen"] = scores(y, FeatureClustering(n_clusters=k, random_state=seed).fit(frozen.numpy()).labels_)
    z = F.normalize(frozen, dim=1)
    neighbours = (z @ z.T).topk(21, dim=1).indices[:, 1:]
    head = torch.nn.Linear(frozen.shape[1], k)
    optimiser = torch.optim.Adam([{"params": [p for m in trainable for p in m.parameters()], "lr": lr},
                                  {"params": head.parameters(), "lr": 1e-3}])
    t = time.perf_counter()
    for epoch in range(epochs):
        for m in trainable:
            m.train()
        order = torch.randperm(n)
        for a in range(0, n, batch):
            idx = order[a:a + batch]
            nb = neighbours[idx, torch.randint(0, 20, (len(idx),))]
            pa = F.softmax(head(top(views[torch.randint(0, copies, (len(idx),)), idx])), 1)
            pb = F.softmax(head(top(views[torch.randint(0, copies, (len(idx),)), nb])), 1)
            mean = pa.mean(0)
            consistency = -torch.log((pa * pb).sum(1).clamp_min(1e-7)).mean()
            loss = consistency + 5.0 * (mean * mean.clamp_min(1e-7).log()).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        log(f"  epoch {epoch + 1}: loss {loss.item():.3f}")
    adapted = embed(base)
    row["train_s"] = round(time.perf_counter() - t, 1)
    row["adapted"] = scores(y, FeatureClustering(n_clusters=k, random_state=seed).fit(adapted.numpy()).labels_)
    with torch.inference_mode():
        row["head"] = scores(y, head(adapted).argmax(1).numpy())
    return row


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--sets", nargs="+", default=["emoji"])
    p.add_argument("--seeds", nargs="+", default=["0"])
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--train-from", type=int, default=5, help="first trainable block stage (0–6)")
    p.add_argument("--name", default="label_free_adaptation")
    args = p.parse_args(argv)
    start, rows = time.perf_counter(), []
    for set_name in args.sets:
        X, y = load_set(set_name)
        for seed in seeds_of(args.seeds):
            row = adapt(X, y, seed=seed, copies=args.copies, epochs=args.epochs, lr=args.lr,
                        train_from=args.train_from)
            rows.append({"set": set_name, "copies": args.copies, "epochs": args.epochs, "lr": args.lr,
                         "train_from": args.train_from, **row})
            print(f"{set_name} seed {seed}: frozen {row['frozen']['acc']:.3f}/{row['frozen']['nmi']:.3f} "
                  f"adapted {row['adapted']['acc']:.3f}/{row['adapted']['nmi']:.3f} head {row['head']['acc']:.3f}",
                  flush=True)
    payload = {"command": command_line("benchmarks.label_free_adaptation", argv), "date": today(),
               "machine": machine(), "versions": versions(), "rows": rows,
               "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak_rss_mb())}
    table = markdown_table(
        ["set", "train from stage", "epochs", "lr", "seed", "frozen ACC / NMI", "adapted ACC / NMI", "head ACC",
         "train s"],
        [[r["set"], r["train_from"], r["epochs"], r["lr"], r["seed"],
          f"{r['frozen']['acc']:.3f} / {r['frozen']['nmi']:.3f}",
          f"{r['adapted']['acc']:.3f} / {r['adapted']['nmi']:.3f}",
          f"{r['head']['acc']:.3f}", r["train_s"]] for r in rows])
    write_results(args.name, payload, f"Command: `{payload['command']}`; {payload['seconds']} s, peak "
                                      f"{payload['peak_rss_mb']} MB, {payload['machine']['cpu']}, "
                                      f"{payload['machine']['cores']} cores. A prototype, not a library feature.\n\n"
                  + table)


if __name__ == "__main__":
    main()
