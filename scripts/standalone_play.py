"""Plays an audio file, looped, into singer-id-live's JACK inputs (for scripts/standalone_cpu.sh).

Usage: standalone_play.py FILE SECONDS
"""
import sys
import threading
import time

import jack
import numpy as np
import soundfile

path, seconds = sys.argv[1], float(sys.argv[2])
client = jack.Client("singer-id-player")
audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
audio = audio.mean(axis=1)
if rate != client.samplerate:
    # Linear interpolation is enough to give the analysis a singing voice at the server's rate.
    t = np.arange(int(len(audio) * client.samplerate / rate)) * rate / client.samplerate
    audio = np.interp(t, np.arange(len(audio)), audio).astype(np.float32)
outs = [client.outports.register(f"out_{i}") for i in (1, 2)]
position = 0
done = threading.Event()


@client.set_process_callback
def process(frames):
    global position
    idx = (position + np.arange(frames)) % len(audio)
    for port in outs:
        port.get_array()[:] = audio[idx]
    position += frames


with client:
    targets = client.get_ports(is_audio=True, is_input=True, name_pattern=r"^singer_id:input_")
    if not targets:
        sys.exit("singer-id-live's JACK inputs not found")
    for out, target in zip(outs, targets):
        client.connect(out, target)
    time.sleep(seconds)
