#!/usr/bin/env bash
# Set up deepclust on a fresh machine: a virtual environment at .venv with every dependency,
# and, when we are root, the Fashion-MNIST Debian package and Chromium (for the report's browser test).
# Safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = "0" ] && [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then
    echo "[setup] installing dataset-fashion-mnist (Debian)"
    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null \
        || echo "[setup] could not install dataset-fashion-mnist; 'fashion-mnist' will need --data-dir or a download"
fi

if [ "$(id -u)" = "0" ] && { [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] \
        || [ ! -f /usr/share/unicode/emoji/emoji-test.txt ]; } && command -v apt-get >/dev/null; then
    echo "[setup] installing fonts-noto-color-emoji and unicode-data (Debian), for the colour data sets (emoji)"
    { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji unicode-data >/dev/null; } \
        || echo "[setup] could not install them; the emoji data sets (and their tests) will be unavailable"
fi

held_out_files=(/usr/share/icons/oxygen/base /usr/share/icons/gnome/256x256 /usr/share/backgrounds/mate/nature
                /usr/share/rubygems-integration/all/gems/gemojione-3.3.0/assets/svg)
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null && ! ls -d "${held_out_files[@]}" >/dev/null 2>&1; then
    echo "[setup] installing oxygen-icon-theme, gnome-icon-theme, mate-backgrounds and ruby-gemojione (Debian)," \
         "for the held-out colour panel (icons, icons-on-photos, emojione)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq oxygen-icon-theme gnome-icon-theme \
          mate-backgrounds ruby-gemojione >/dev/null; } \
        || echo "[setup] could not install them; the held-out data sets (and their tests) will be unavailable"
fi

if [ "$(id -u)" = "0" ] && ! command -v chromedriver >/dev/null && command -v apt-get >/dev/null; then
    echo "[setup] installing chromium and chromium-driver (Debian), for the test that opens report.html in a browser"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
        || echo "[setup] could not install chromium; the browser test of report.html will be skipped"
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.deepclust-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "[setup] installing Python packages into .venv (the first time takes a few minutes)"
    .venv/bin/python -m pip install -q --upgrade pip
    # torch/torchvision pinned to the releases served from this machine's disk (see README).
    .venv/bin/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
    .venv/bin/python -m pip install -q -e ".[extra-weights,datasets,attention,faiss,dask,vips,parquet,test]"
    touch "$stamp"
fi
echo "[setup] ready: .venv/bin/deepclust"
