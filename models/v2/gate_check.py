"""Voice gate vs pauses kept, for v2 on dev (the keep_pauses figures of models/README.md):
torch CAM++, centroid enrolment from whole enroll clips, top-1 on whole test clips and on 1-s
units of dev_mono / dev_mono2mix, with every frame ("nogate") or only frames >= -45 dBFS ("gate").
Usage (from models/): .venv/bin/python v2/gate_check.py   (a few minutes on 2 cores)
"""
import sys; sys.path.insert(0,'.')
import csv, numpy as np, torch, common
from pathlib import Path
from v2 import fbank
from v2.export import load_encoder
torch.set_num_threads(2)
enc=load_encoder(None)
D=Path('../../shared/data')
def emb(y, gate=False):
    f=fbank.fbank(y)
    if gate:
        fr=torch.as_tensor(y[:len(y)//160*160]).unfold(0,400,160) if len(y)>=400 else None
        lv=10*torch.log10((fr**2).mean(1)+1e-12)
        keep=lv[:len(f)]>=-45
        if keep.sum()>10: f=f[:len(keep)][keep]
    with torch.no_grad(): e=enc(f[None])[0].numpy()
    return e/np.linalg.norm(e)
for man in ['dev_mono','dev_mono2mix']:
  for gate in [False, True]:
    rows=list(csv.DictReader(open(D/f'{man}.csv')))
    cents={}
    for r in rows:
        if r['role']=='enroll': cents.setdefault(r['singer'],[]).append(emb(common.load_audio_16k(D/r['path']),gate))
    names=sorted(cents); C=np.stack([np.mean(cents[n],0)/np.linalg.norm(np.mean(cents[n],0)) for n in names])
    res={'whole':[], '1s':[]}
    for r in rows:
        if r['role']!='test' or r['singer'] not in cents: continue
        y=common.load_audio_16k(D/r['path'])
        res['whole'].append(names[np.argmax(C@emb(y,gate))]==r['singer'])
        for i in range(len(y)//16000):
            res['1s'].append(names[np.argmax(C@emb(y[i*16000:(i+1)*16000],gate))]==r['singer'])
    print(man, 'gate' if gate else 'nogate', {k:(round(np.mean(v),3),len(v)) for k,v in res.items()})
