"""Does adaptive score normalisation (AS-norm) help v2 on dev? Measured, not shipped.

Cohort: one centroid per training identity (utau, more/ minus the held-out singers, LibriSpeech;
302 identities; first two clips each). Dev: centroid enrolment from the manifest's enroll clips,
1-s test units of dev_mono / dev_mono2mix (torch CAM++, no voice gate), EER over all unit x
singer trials and top-1, for the raw cosine (K 0) and AS-norm with the top K cohort scores.
Result (models/README.md): no K improves EER, so the engine keeps raw cosine scores.
Usage (from models/): .venv/bin/python v2/asnorm_check.py   (about 2 min on one core)
"""
import sys; sys.path.insert(0,'.')
import csv, numpy as np, torch, common, collections
from pathlib import Path
from v2 import fbank, heldout
from v2.export import load_encoder
torch.set_num_threads(1)
enc=load_encoder(None)
D=Path('../../shared/data')
def emb(y):
    f=fbank.fbank(y)[:1000]
    with torch.no_grad(): e=enc(f[None])[0].numpy()
    return e/np.linalg.norm(e)
# cohort
ids=collections.defaultdict(list)
for r in csv.DictReader(open(D/'manifest.csv')):
    if r['dataset'].startswith('gtsinger') or heldout.is_heldout(r['identity']): continue
    ids[r['identity']].append(r['path'])
coh=[]
for i in sorted(ids):
    ps=sorted(ids[i])[:2]
    es=[emb(common.load_audio_16k(D/p)) for p in ps]
    m=np.mean(es,0); coh.append(m/np.linalg.norm(m))
coh=np.stack(coh); print('cohort',coh.shape)
def eer(tar,non):
    ts=np.sort(np.concatenate([tar,non])); best=1
    for t in ts[::max(1,len(ts)//2000)]:
        fr=np.mean(tar<t); fa=np.mean(non>=t); best=min(best,max(fr,fa))
    return best
for man in ['dev_mono','dev_mono2mix']:
    rows=list(csv.DictReader(open(D/f'{man}.csv')))
    cents={}
    for r in rows:
        if r['role']=='enroll': cents.setdefault(r['singer'],[]).append(emb(common.load_audio_16k(D/r['path'])))
    names=sorted(cents); C=np.stack([np.mean(cents[n],0)/np.linalg.norm(np.mean(cents[n],0)) for n in names])
    U=[];truth=[]
    for r in rows:
        if r['role']!='test': continue
        y=common.load_audio_16k(D/r['path'])
        for i in range(len(y)//16000):
            U.append(emb(y[i*16000:(i+1)*16000])); truth.append(r['singer'])
    U=np.stack(U); S=U@C.T
    for K in [0,20,50,100]:
        if K==0: N=S
        else:
            cu=np.sort(U@coh.T,1)[:,-K:]; cc=np.sort(C@coh.T,1)[:,-K:]
            N=0.5*((S-cc.mean(1)[None])/cc.std(1)[None]+(S-cu.mean(1)[:,None])/cu.std(1)[:,None])
        tar=[];non=[]
        for u,t in enumerate(truth):
            for j,n in enumerate(names): (tar if n==t else non).append(N[u,j])
        top1=np.mean([names[np.argmax(N[u])]==t for u,t in enumerate(truth) if t in names])
        print(man,'K',K,'top1 %.3f eer %.3f'%(top1,eer(np.array(tar),np.array(non))))
