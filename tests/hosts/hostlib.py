"""Drives the Singer ID VST3 plugin from two real Python hosts, pedalboard and DawDreamer, and
reads and writes its state the way those hosts store it.

Both hosts are built on JUCE, so both hand out the same state blob (JUCE's
`VST3PluginInstance::getStateInformation`):

    8-byte header (magic 0x21324356, little-endian u32 length of the XML text)
    <?xml ...?><VST3PluginState><IComponent>N.XXXX</IComponent><IEditController>...</...>
    one NUL byte

`IComponent` holds what the plugin's `IComponent::getState` wrote, in JUCE's own base64 flavour
(`MemoryBlock::toBase64Encoding`: the byte count, a dot, then 6-bit groups taken from the
least significant bits up, with the alphabet `.A-Za-z0-9+`). nice-plug writes its state there as
JSON `{"version", "params", "fields"}`; each `fields` value is itself a JSON string.
pedalboard exposes the blob as `VST3Plugin.raw_state` (bytes); DawDreamer as files
(`PluginProcessor.save_state(path)` / `load_state(path)`).
"""

from __future__ import annotations

import json
import re
import struct
import tempfile
from pathlib import Path

import numpy as np

JUCE_XML_MAGIC = 0x21324356
JUCE_B64 = b".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"


def juce_b64encode(data: bytes) -> str:
    """JUCE `MemoryBlock::toBase64Encoding`: little-endian bit order, so every 3 bytes give 4
    characters, lowest 6 bits first."""
    n_chars = (len(data) * 8 + 5) // 6
    padded = np.frombuffer(data + b"\0" * (-len(data) % 3), dtype=np.uint8).astype(np.uint32)
    groups = padded[0::3] | padded[1::3] << 8 | padded[2::3] << 16
    sixes = (groups[:, None] >> np.array([0, 6, 12, 18], dtype=np.uint32)) & 63
    table = np.frombuffer(JUCE_B64, dtype=np.uint8)
    return f"{len(data)}." + table[sixes.ravel()[:n_chars]].tobytes().decode("ascii")


def juce_b64decode(text: str) -> bytes:
    """Inverse of `juce_b64encode` (JUCE `MemoryBlock::fromBase64Encoding`)."""
    size, _, chars = text.strip().partition(".")
    lookup = np.full(256, 255, dtype=np.uint8)
    lookup[np.frombuffer(JUCE_B64, dtype=np.uint8)] = np.arange(64, dtype=np.uint8)
    values = lookup[np.frombuffer(chars.encode("ascii"), dtype=np.uint8)]
    values = values[values != 255].astype(np.uint32)  # JUCE skips anything outside the alphabet
    values = np.concatenate([values, np.zeros(-len(values) % 4, dtype=np.uint32)]).reshape(-1, 4)
    groups = values[:, 0] | values[:, 1] << 6 | values[:, 2] << 12 | values[:, 3] << 18
    out = np.stack([groups & 255, groups >> 8 & 255, groups >> 16 & 255], axis=1).astype(np.uint8)
    return out.tobytes()[: int(size)]


def unwrap_component(blob: bytes) -> bytes:
    """The plugin's own `IComponent` state out of a JUCE host state blob."""
    magic, length = struct.unpack_from("<II", blob)
    assert magic == JUCE_XML_MAGIC, f"not a JUCE state blob (magic {magic:#x})"
    xml = blob[8 : 8 + length].decode("utf-8")
    match = re.search(r"<IComponent>([^<]*)</IComponent>", xml)
    assert match, f"no IComponent element in {xml[:200]!r}"
    return juce_b64decode(match.group(1))


def wrap_component(component: bytes) -> bytes:
    """A JUCE host state blob carrying `component` as the plugin's `IComponent` state (nice-plug
    keeps nothing in `IEditController`, so that element is left out, as JUCE does for empty
    controller state)."""
    xml = ('<?xml version="1.0" encoding="UTF-8"?>'
           f"<VST3PluginState><IComponent>{juce_b64encode(component)}</IComponent></VST3PluginState>")
    text = xml.encode("utf-8")
    return struct.pack("<II", JUCE_XML_MAGIC, len(text)) + text + b"\0"


def decode_state(blob: bytes) -> dict:
    """nice-plug's state object from a host blob: {"version", "params", "fields"}."""
    return json.loads(unwrap_component(blob))


def encode_state(state: dict) -> bytes:
    return wrap_component(json.dumps(state).encode("utf-8"))


def field(state: dict, name: str):
    """A persisted field, parsed (nice-plug stores each as a JSON string); None when absent."""
    raw = state["fields"].get(name)
    return None if raw is None else json.loads(raw)


class PedalboardHost:
    """pedalboard's `VST3Plugin`. It renders non-realtime (it calls `setNonRealtime(true)` before
    every `prepareToPlay`) with a fixed maximum block size (`buffer_size`, 8192 by default), so
    chunks of up to 8192 samples reach the plugin as one block each. Changing the rate or the
    channel count re-prepares, and so re-initialises, the plugin."""

    name = "pedalboard"

    def __init__(self, bundle: Path, rate: int, chunk: int | None = None, seed: int = 0):
        import pedalboard

        self.plugin = pedalboard.VST3Plugin(str(bundle))
        self.rate, self.chunk, self.rng = rate, chunk, np.random.default_rng(seed)

    def chunks(self, total: int) -> list[int]:
        """`chunk`-sized pieces, or random sizes from 3 to 8192 (log-uniform: many small blocks
        as well as large ones), as a DAW's varying block sizes would be.
        The first is the largest: pedalboard prepares the plugin for min(buffer_size, len(chunk))
        samples and re-prepares it (deactivate, setupProcessing, activate) whenever a call is
        longer than any before, which re-initialises the plugin and restarts its analysis clock
        (as the contract says it should), so a growing chunk size would split the stream.
        Not below 3: pedalboard guesses which axis holds the channels from the shape, so a 2 x 1
        or 2 x 2 chunk would be misread (a last chunk that short is merged into the one before)."""
        sizes = [min(self.chunk or 8192, total)]
        total -= sizes[0]
        while total > 0:
            size = self.chunk or int(np.exp(self.rng.uniform(np.log(3), np.log(8192))))
            sizes.append(total if total - size < 3 else size)
            total -= sizes[-1]
        return sizes

    def process(self, audio: np.ndarray) -> np.ndarray:
        """Feeds `audio` (channels x samples, float32) chunk by chunk, as a DAW would, and returns
        what came out. `reset()` first, so the plugin's clock starts at the first sample;
        `reset=False` afterwards keeps one continuous stream."""
        self.plugin.reset()
        out, pos = [], 0
        for size in self.chunks(audio.shape[1]):
            out.append(self.plugin.process(audio[:, pos : pos + size], self.rate, reset=False))
            pos += size
        return np.concatenate(out, axis=1)

    @property
    def state(self) -> bytes:
        return bytes(self.plugin.raw_state)

    @state.setter
    def state(self, blob: bytes) -> None:
        self.plugin.raw_state = blob


class DawDreamerHost:
    """DawDreamer's `PluginProcessor` inside a `RenderEngine(rate, block)`: it renders a whole
    graph (here a playback processor feeding the plugin) in blocks of exactly `block` samples,
    as fast as it can. It calls the plugin's setNonRealtime(true) only after preparing it, and
    JUCE skips later prepareToPlay calls with unchanged settings, so the plugin is never told it
    renders offline (VST3 processMode stays kRealtime). `load_state` also opens (and closes) the
    plugin's editor (which works here with no display)."""

    name = "dawdreamer"

    def __init__(self, bundle: Path, rate: int, block: int, channels: int = 2):
        import dawdreamer

        self.rate = rate
        self.engine = dawdreamer.RenderEngine(rate, block)
        self.plugin = self.engine.make_plugin_processor("singer_id", str(bundle.resolve()))
        names = [p["name"] for p in self.plugin.get_parameters_description()]
        self.every_sample = names.index("Analyse every sample")
        # The plugin opens stereo; a mono source would otherwise feed only its left channel.
        if channels != 2:
            assert self.plugin.set_bus(channels, channels), f"no {channels}-channel layout"
        self.tmp = tempfile.TemporaryDirectory(prefix="dawdreamer-state-")

    def process(self, audio: np.ndarray) -> np.ndarray:
        # DawDreamer renders hundreds of times faster than real time but tells the plugin it
        # plays live, so the analysis would skip most of the audio: the plugin's "Analyse every
        # sample" option is for exactly such renderers. Set here, after any state load (a state
        # carries the option's saved value), since DawDreamer applies parameters when rendering.
        self.plugin.set_parameter(self.every_sample, 1.0)
        source = self.engine.make_playback_processor("source", np.ascontiguousarray(audio))
        self.engine.load_graph([(source, []), (self.plugin, ["source"])])
        # render() takes seconds and truncates `seconds * rate` to whole samples: aim mid-sample.
        self.engine.render((audio.shape[1] + 0.5) / self.rate)
        return self.plugin.get_audio()

    @property
    def state(self) -> bytes:
        path = Path(self.tmp.name) / "state.bin"
        self.plugin.save_state(str(path))
        return path.read_bytes()

    @state.setter
    def state(self, blob: bytes) -> None:
        path = Path(self.tmp.name) / "state.bin"
        path.write_bytes(blob)
        self.plugin.load_state(str(path))
