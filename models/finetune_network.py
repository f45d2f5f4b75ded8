"""The networks the encoder families run in torch and export to ONNX: the ``finetune`` family's
encoder → pooling → per-theme softmax logits, and the ``embed`` family's pooled encoder.

Everything happens inside ``forward(input_ids, attention_mask)``, so the training loop, torch
inference and the ONNX export all see one graph with the plain tokenized text as its input.
"""

from __future__ import annotations

import torch

from themesift.models.encoder import mean_pool

POOLINGS = ("mean", "theme_attention")


class ThemeAttentionHead(torch.nn.Module):
    """One learned query per theme attends over the tokens; each theme's classifier sees its
    own attention-pooled vector next to the sentence's mean-pooled one.

    A sentence that praises the food and pans the service has one mean vector for both;
    per-theme attention lets each theme's polarity come from the words about that theme.
    Queries start at zero, i.e. uniform attention: training begins from plain mean pooling.
    """

    def __init__(self, hidden_size: int, n_themes: int, n_classes: int):
        super().__init__()
        self.queries = torch.nn.Parameter(torch.zeros(n_themes, hidden_size))
        bound = (2 * hidden_size) ** -0.5
        self.weight = torch.nn.Parameter(torch.empty(n_themes, 2 * hidden_size, n_classes).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(torch.zeros(n_themes, n_classes))
        self.scale = hidden_size**-0.5

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, dropout: torch.nn.Module) -> torch.Tensor:
        scores = torch.einsum("nld,td->ntl", hidden, self.queries) * self.scale
        scores = scores.masked_fill(mask[:, None, :] == 0, torch.finfo(scores.dtype).min)
        pooled = torch.einsum("ntl,nld->ntd", torch.softmax(scores, dim=-1), hidden)
        mean = mean_pool(hidden, mask)[:, None, :].expand_as(pooled)
        features = dropout(torch.cat([pooled, mean], dim=-1))
        logits = torch.einsum("ntd,tdc->ntc", features, self.weight) + self.bias
        return logits.flatten(1)  # not reshape(len(hidden), ...): that would fix the batch size in an ONNX export


class PooledEncoder(torch.nn.Module):
    """Encoder → mean pooling: the graph the ``embed`` family exports."""

    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)


class ThemeNetwork(torch.nn.Module):
    """Encoder → pooling → dropout → n_themes × n_classes logits.

    ``pooling="mean"``: one mean-pooled vector and a linear layer; ``"theme_attention"``:
    see ThemeAttentionHead.
    """

    def __init__(
        self, encoder: torch.nn.Module, n_themes: int, n_classes: int, dropout: float = 0.1, pooling: str = "mean"
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = torch.nn.Dropout(dropout)
        hidden = encoder.config.hidden_size
        if pooling == "mean":
            self.head = torch.nn.Linear(hidden, n_themes * n_classes)
        else:
            self.head = ThemeAttentionHead(hidden, n_themes, n_classes)
        self.n_themes, self.n_classes = n_themes, n_classes

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        if self.pooling == "mean":
            return self.head(self.dropout(mean_pool(hidden, attention_mask)))
        return self.head(hidden, attention_mask, self.dropout)
