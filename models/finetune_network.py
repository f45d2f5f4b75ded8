"""The network the ``finetune`` family trains: encoder → pooling → per-theme softmax logits.

Everything, including the (theme, text) pairing, happens inside ``forward(input_ids,
attention_mask)``, so the training loop, torch inference and the ONNX export all see one
graph with the plain tokenized text as its input.
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
        self.scale = hidden_size ** -0.5

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, dropout: torch.nn.Module) -> torch.Tensor:
        scores = torch.einsum("nld,td->ntl", hidden, self.queries) * self.scale
        scores = scores.masked_fill(mask[:, None, :] == 0, torch.finfo(scores.dtype).min)
        pooled = torch.einsum("ntl,nld->ntd", torch.softmax(scores, dim=-1), hidden)
        mean = mean_pool(hidden, mask)[:, None, :].expand_as(pooled)
        features = dropout(torch.cat([pooled, mean], dim=-1))
        logits = torch.einsum("ntd,tdc->ntc", features, self.weight) + self.bias
        return logits.flatten(1)  # not reshape(len(hidden), ...): that would fix the batch size in an ONNX export


class ThemePairs(torch.nn.Module):
    """Turns a batch of tokenized texts into one (theme, text) pair per theme, as BERT-pair
    (Sun et al. 2019) does: ``[CLS] theme words [SEP] text [SEP]``, the theme as segment A.

    The encoder then reads each text once per theme, knowing which theme it is asked about,
    at ``n_themes`` times the cost. Theme segments are padded to one width at their end, so a
    text token's position depends on neither the batch nor the theme (padding is masked out).
    """

    def __init__(self, theme_ids: list[list[int]], pad_id: int, use_token_types: bool):
        super().__init__()
        width = max(len(ids) for ids in theme_ids)
        ids = torch.full((len(theme_ids), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(theme_ids), width), dtype=torch.long)
        for t, row in enumerate(theme_ids):
            ids[t, :len(row)] = torch.tensor(row)
            mask[t, :len(row)] = 1
        self.register_buffer("theme_ids", ids, persistent=False)  # rebuilt from the label space at load
        self.register_buffer("theme_mask", mask, persistent=False)
        self.use_token_types = use_token_types

    @classmethod
    def for_encoder(cls, tokenizer, config, themes: list[str], max_length: int) -> "ThemePairs":
        """Pairs for these themes (their names, ``_`` and ``-`` read as spaces), refusing a
        ``max_length`` whose pairs would run past the encoder's positions."""
        words = [theme.replace("_", " ").replace("-", " ") for theme in themes]
        pairs = cls(tokenizer(words)["input_ids"], tokenizer.pad_token_id or 0,
                    use_token_types=getattr(config, "type_vocab_size", 1) > 1)
        extra = pairs.theme_ids.shape[1] - 1  # the theme segment replaces the text's own first token
        limit = getattr(config, "max_position_embeddings", max_length + extra)
        if max_length + extra > limit:
            raise ValueError(f"with theme_pairs a sequence can take max_length {max_length} + {extra} theme tokens "
                             f"= {max_length + extra}, more than the encoder's {limit} positions: lower max_length")
        return pairs

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        n_themes = self.theme_ids.shape[0]
        text_ids = input_ids[:, 1:]  # drop the text's own [CLS]/<s>: the theme segment starts the pair
        text_mask = attention_mask[:, 1:]

        def pair(theme: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
            themes = theme[None].expand(text.shape[0], -1, -1)
            texts = text[:, None, :].expand(-1, n_themes, -1)
            return torch.cat([themes, texts], dim=-1).flatten(0, 1)  # (batch · themes, width + length - 1)

        out = {"input_ids": pair(self.theme_ids, text_ids), "attention_mask": pair(self.theme_mask, text_mask)}
        if self.use_token_types:
            out["token_type_ids"] = pair(torch.zeros_like(self.theme_mask), text_mask)
        return out


class ThemeNetwork(torch.nn.Module):
    """Encoder → pooling → dropout → n_themes × n_classes logits.

    ``pooling="mean"``: one mean-pooled vector and a linear layer; ``"theme_attention"``:
    see ThemeAttentionHead. With ``pairs`` (a ThemePairs), each theme's logits come from the
    encoding of its own (theme, text) pair.
    """

    def __init__(self, encoder: torch.nn.Module, n_themes: int, n_classes: int, dropout: float = 0.1,
                 pooling: str = "mean", pairs: ThemePairs | None = None):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.pairs = pairs
        self.dropout = torch.nn.Dropout(dropout)
        hidden = encoder.config.hidden_size
        if pooling == "mean":
            self.head = torch.nn.Linear(hidden, n_themes * n_classes)
        else:
            self.head = ThemeAttentionHead(hidden, n_themes, n_classes)
        self.n_themes, self.n_classes = n_themes, n_classes

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra) -> torch.Tensor:
        if self.pairs is not None:
            extra = self.pairs(input_ids, attention_mask)  # the text's token types are replaced by the pair's
            input_ids, attention_mask = extra.pop("input_ids"), extra.pop("attention_mask")
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        if self.pooling == "mean":
            logits = self.head(self.dropout(mean_pool(hidden, attention_mask)))
        else:
            logits = self.head(hidden, attention_mask, self.dropout)
        if self.pairs is None:
            return logits
        # row (text, t) scored every theme; keep only theme t's logits from it
        per_pair = logits.view(-1, self.n_themes, self.n_themes, self.n_classes)
        own = torch.eye(self.n_themes, dtype=per_pair.dtype, device=per_pair.device)[None, :, :, None]
        return (per_pair * own).sum(dim=2).flatten(1)
