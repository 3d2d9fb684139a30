"""The v1 singer-embedding network: a small 1-D CNN over log-mel frames (TDNN-like, as the
mono2mix study), attentive statistics pooling over time (the CNN design study's biggest win),
and a linear projection to an L2-normalised embedding. ~1 s in, one embedding out.

Sized for the plugin: ~9 M multiply-adds per 1-s window, so a decision every 0.5 s costs well
under a millisecond in tract."""
import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = dilation * (kernel - 1) // 2
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride, pad, dilation, bias=False),
                         nn.BatchNorm1d(c_out), nn.ReLU())


class SingerNet(nn.Module):
    def __init__(self, n_mels: int = 64, channels: int = 128, embedding: int = 192):
        super().__init__()
        c = channels
        self.input_norm = nn.BatchNorm1d(n_mels)
        self.body = nn.Sequential(
            conv_bn(n_mels, c, 5, stride=2),
            conv_bn(c, c, 3, dilation=2),
            conv_bn(c, c, 3, dilation=3),
            conv_bn(c, c, 3, stride=2),
            conv_bn(c, 2 * c, 1),
        )
        self.attention = nn.Sequential(nn.Conv1d(2 * c, 64, 1), nn.Tanh(), nn.Conv1d(64, 1, 1))
        self.head = nn.Linear(4 * c, embedding)
        self.embedding_size = embedding

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """[batch, frames, n_mels] log-mel -> [batch, embedding], unit length."""
        # Gain only shifts log-mel by a constant: remove it, so loudness never changes identity.
        x = mel - mel.mean(dim=(1, 2), keepdim=True)
        h = self.body(self.input_norm(x.transpose(1, 2)))
        w = torch.softmax(self.attention(h), dim=2)
        mu = (h * w).sum(dim=2)
        sd = torch.sqrt(torch.clamp((h * h * w).sum(dim=2) - mu * mu, min=1e-5))
        e = self.head(torch.cat([mu, sd], dim=1))
        return e / torch.sqrt((e * e).sum(dim=1, keepdim=True) + 1e-12)


class MarginClassifier(nn.Module):
    """Cosine classifier with an additive margin (CosFace/AM-softmax): margin 0 is plain
    (normalised) softmax classification, margin > 0 is metric learning."""

    def __init__(self, embedding: int, classes: int, scale: float = 30.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, embedding) * 0.01)
        self.scale = scale

    def forward(self, e: torch.Tensor, labels: torch.Tensor, margin: float) -> tuple[torch.Tensor, torch.Tensor]:
        cos = e @ F.normalize(self.weight, dim=1).T
        logits = self.scale * (cos - margin * F.one_hot(labels, cos.shape[1]))
        return F.cross_entropy(logits, labels), (cos.argmax(dim=1) == labels).float().mean()
