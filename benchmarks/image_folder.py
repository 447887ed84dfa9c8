"""Write a builtin data set as a folder of image files, one subfolder per class (``NNNNN.png`` by the array's
index), so that a benchmark can run the same images as an array and as files:

    python -m benchmarks.image_folder mnist-5k /tmp/mnist-5k-png --suffix .png
    python -m benchmarks.image_folder mnist-5k /tmp/mnist-5k-jpg75 --suffix .jpg --quality 75
    python -m benchmarks.run --methods dec --datasets mnist-5k --seeds 0 --name dec_folder_vs_array
    python -m benchmarks.run --methods dec --datasets /tmp/mnist-5k-jpg75 -k 10 --seeds 0 \
        --name dec_folder_vs_array --append

A folder is read in path order (class subfolders, then the index in the file name): for a data set stored class
by class, as MNIST-5k is, that is the array's own order, and a PNG folder decodes to the very same array (checked
bit for bit), so only a lossy format can make the folder differ.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks._harness import parser


def main(argv=None) -> int:
    p = parser(__doc__)
    p.add_argument("dataset", help="a builtin data set (deepclust datasets)")
    p.add_argument("out", type=Path, help="a new folder")
    p.add_argument("--split", default="all")
    p.add_argument("--suffix", default=".png", choices=(".png", ".jpg"))
    p.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    args = p.parse_args(argv)
    from PIL import Image

    from deepclust import load_dataset

    if args.out.exists():
        raise SystemExit(f"{args.out} exists; give a new folder")
    X, y = load_dataset(args.dataset, split=args.split)
    for i, (img, label) in enumerate(zip(X, y)):
        (args.out / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(args.out / str(label) / f"{i:05d}{args.suffix}", quality=args.quality)
    print(f"wrote {len(X)} images to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
