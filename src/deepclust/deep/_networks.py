"""The autoencoders of the DEC family: a fully connected stack (DEC/IDEC/DCN) and a convolutional one (DCEC,
GAPDCEC). Each exposes ``encode`` and ``forward -> (z, reconstruction)`` and a ``config`` to rebuild it."""

from __future__ import annotations

import torch
from torch import nn


class MLPAutoencoder(nn.Module):
    """d-500-500-2000-10 (DEC, Xie et al. 2016): ReLU hidden layers, linear embedding and output."""

    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.config = {"kind": "mlp", "dims": list(dims)}
        enc: list[nn.Module] = []
        dec: list[nn.Module] = []
        for i in range(len(dims) - 1):
            enc.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                enc.append(nn.ReLU())
        rev = dims[::-1]
        for i in range(len(rev) - 1):
            dec.append(nn.Linear(rev[i], rev[i + 1]))
            if i < len(rev) - 2:
                dec.append(nn.ReLU())
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor):
        z = self.encoder(x)
        return z, self.decoder(z)


def _deconv_padding(size_in: int, size_out: int, kernel: int, stride: int = 2) -> tuple[int, int]:
    """(padding, output_padding) that make ConvTranspose2d map ``size_in`` to ``size_out``."""
    for padding in range(kernel // 2, -1, -1):
        out_pad = size_out - ((size_in - 1) * stride - 2 * padding + kernel)
        if 0 <= out_pad < stride:
            return padding, out_pad
    raise ValueError(f"cannot map {size_in} to {size_out} with kernel {kernel}")


class ConvAutoencoder(nn.Module):
    """DCEC's convolutional autoencoder (Guo et al. 2017): conv(32, 5×5, s2) → conv(64, 5×5, s2) →
    conv(128, 3×3, s2) → flatten → dense(10), mirrored by dense → deconvolutions.

    With ``global_pool=True`` it is GAPDCEC's network (Kolla & VenuGopal 2018): the last conv maps are averaged
    over space (global average pooling) before the 10-unit embedding, instead of flattened. ``embedding_layer``
    says what makes the embedding then: ``"dense"`` a dense layer on the 128 pooled maps; ``"pooled"`` no dense
    layer, conv3 has ``embedding_dim`` filters and their pooled (ReLU) maps are the embedding, the follow-up's
    (CGAPDCEC, 2019) wording; ``"pooled_linear"`` the same without the ReLU before the pooling, a linear embedding
    as DCEC's. The decoder is the same in all three (dense → conv3's map shape with ``filters[2]`` channels).
    """

    def __init__(self, input_shape: tuple[int, int, int], filters=(32, 64, 128), embedding_dim: int = 10,
                 global_pool: bool = False, embedding_layer: str = "dense"):
        super().__init__()
        c, h, w = input_shape
        if embedding_layer not in ("dense", "pooled", "pooled_linear"):
            raise ValueError(f"embedding_layer must be 'dense', 'pooled' or 'pooled_linear', got {embedding_layer!r}")
        if embedding_layer != "dense" and not global_pool:
            raise ValueError(f"embedding_layer={embedding_layer!r} pools the last conv maps: it needs global_pool")
        self.config = {"kind": "conv", "input_shape": list(input_shape), "filters": list(filters),
                       "embedding_dim": embedding_dim, "global_pool": global_pool}
        if embedding_layer != "dense":  # only then, so that autoencoders saved before the option still load
            self.config["embedding_layer"] = embedding_layer
        f1, f2, f3 = filters
        pooled = embedding_layer != "dense"
        # conv3 uses 'valid' padding unless the side is a multiple of 8, as in the reference (28 → 14 → 7 → 3), or
        # the maps are too small for it (one-row images, 1-D signals)
        small = min(-(-h // 4), -(-w // 4)) < 3
        pad3 = 1 if (h % 8 == 0 and w % 8 == 0) or small else 0
        convs = [nn.Conv2d(c, f1, 5, 2, 2), nn.ReLU(), nn.Conv2d(f1, f2, 5, 2, 2), nn.ReLU(),
                 nn.Conv2d(f2, embedding_dim if pooled else f3, 3, 2, pad3)]
        self.convs = nn.Sequential(*convs, *([] if embedding_layer == "pooled_linear" else [nn.ReLU()]))
        with torch.no_grad():
            shapes = [(h, w)]
            x = torch.zeros(1, c, h, w)
            for layer in self.convs:
                x = layer(x)
                if isinstance(layer, nn.Conv2d):
                    shapes.append(tuple(x.shape[-2:]))
        self._map_shape = (f3, *shapes[-1])
        flat = f3 * shapes[-1][0] * shapes[-1][1]
        self.embed = nn.Identity() if pooled else nn.Linear(f3 if global_pool else flat, embedding_dim)
        self.expand = nn.Linear(embedding_dim, flat)
        layers = []
        for (cin, cout, k), (s_in, s_out) in zip([(f3, f2, 3), (f2, f1, 5), (f1, c, 5)],
                                                 zip(shapes[::-1][:-1], shapes[::-1][1:])):
            ph, oh = _deconv_padding(s_in[0], s_out[0], k)
            pw, ow = _deconv_padding(s_in[1], s_out[1], k)
            layers += [nn.ConvTranspose2d(cin, cout, k, 2, (ph, pw), (oh, ow)), nn.ReLU()]
        self.deconvs = nn.Sequential(*layers[:-1])  # linear output, as the reference
        self.global_pool = global_pool

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.convs(x)
        return self.embed(maps.mean(dim=(2, 3)) if self.global_pool else maps.flatten(1))

    def forward(self, x: torch.Tensor):
        z = self.encode(x)
        maps = torch.relu(self.expand(z)).view(-1, *self._map_shape)
        return z, self.deconvs(maps)
