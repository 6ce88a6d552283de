#!/usr/bin/env python3
"""Would a shipped encoder-stage calibration beat the per-playbook one? A leave-one-fixture-out check.

The fast path's calibration is fitted once across many playbooks and shipped (bench/fit_calibration.py),
because the per-playbook cross-validation made it too pessimistic. This script asks the same question of
the encoder stage's fused calibration (crates/nlu/src/semantic.rs): it fits a signed logistic regression
on the encoder-stage cases of all development fixtures but one, as the final cascade saw them, and
re-decides the held-out fixture with it (background rule included), beside what the per-playbook
calibration decided.

Usage:
  cargo build --release -p tandem
  for each fixture NAME (dir D):  TANDEM_EVAL_DUMP=DUMPS/NAME.enc.jsonl target/release/tandem eval \
      --encoder MODEL --playbook crates/nlu/tests/D/NAME.toml --cases crates/nlu/tests/D/NAME_cases.jsonl
  DUMPS=DIR bench/.venv/bin/python bench/encoder_calibration_lofo.py NAME ...
  FEATS=bg,ans,gap adds features (max(s1, s_answer) - background, s_answer, s1 - s2).
Result (2026-11-29, 8 development fixtures): see docs/benchmarks.md, "Third pass".
"""
import json,sys,os,tomllib
import numpy as np
from scipy.optimize import minimize
ROOT=os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','crates','nlu','tests')+'/'
DUMPS=os.environ.get('DUMPS','bench/out/dumps')
PLACES={'stadtwerke':'fixtures','radhaus':'fixtures'}
def place(n): return PLACES.get(n,'fixtures/dev')
PRIOR=float(os.environ.get('PRIOR','0.15'))
THR=float(os.environ.get('THR','0.5'))
RIDGE=1e-3
FEATS=os.environ.get('FEATS','base').split(',')
def feats(ev):
    c1,c2,s1,s2,sa,lc,ag,bg,sans=(ev[k] for k in ['c1','c2','encoder_s1','encoder_s2','encoder_s_any','lexical_confidence','agree','encoder_background','encoder_s_answer'])
    x=[c1,c1-c2,s1,sa,lc,ag]
    sg=[1,1,1,1,1,1]
    if 'bg' in FEATS: x.append(max(s1,sans)-bg); sg.append(1)
    if 'ans' in FEATS: x.append(sans); sg.append(1)
    if 'gap' in FEATS: x.append(s1-s2); sg.append(1)
    x.append(1.0); sg.append(0)
    return x,sg
def load(n):
    pb=tomllib.load(open(ROOT+place(n)+'/'+n+'.toml','rb'))
    hi={i['id'] for i in pb['intent'] if i.get('handoff')}
    rows=[]
    for l in open(os.path.join(DUMPS,'%s.enc.jsonl'%n)):
        d=json.loads(l); rows.append(d)
    return rows,hi
def fit(data):
    X=[];y=[];w=[]
    for rows,hi in data:
        pts=[]
        for d in rows:
            v=d['view']
            if not v or v['stage']!='encoder': continue
            if d['expect']=='handoff' and d['reason']!='low_confidence': continue
            x,sg=feats(v['evidence'])
            if d['expect']=='handoff': lab=0; kind='off'
            else: lab=int(v['top']==d['expect']); kind='in'
            pts.append((x,lab,kind))
        nin=sum(1 for p in pts if p[2]=='in'); noff=len(pts)-nin
        for x,lab,k in pts:
            X.append(x);y.append(lab);w.append((1-PRIOR)/nin if k=='in' else PRIOR/max(noff,1))
    X=np.array(X);y=np.array(y,float);w=np.array(w);w/=w.sum()
    def loss(b):
        p=1/(1+np.exp(-(X@b)));e=1e-9
        l=-(w*(y*np.log(p+e)+(1-y)*np.log(1-p+e))).sum()+RIDGE*(b[:-1]**2).sum()
        g=X.T@(w*(p-y))+2*RIDGE*np.append(b[:-1],0)
        return l,g
    bounds=[(0,None) if s>0 else (None,0) if s<0 else (None,None) for s in sg]
    return minimize(loss,np.zeros(len(sg)),jac=True,method='L-BFGS-B',bounds=bounds).x
def simulate(rows,hi,b):
    m=dict(ins=0,right=0,top1=0,off=0,offrej=0,ho=0,horight=0,hodec=0)
    for d in rows:
        dec=d['decision'];v=d['view']
        if b is not None and v and v['stage']=='encoder':
            ev=v['evidence'];x,_=feats(ev);conf=1/(1+np.exp(-np.dot(b,x)))
            own=max(ev['encoder_s1'],ev['encoder_s_answer']+0.02)
            if own<ev['encoder_background']-0.02: conf=min(conf,THR*0.99)
            other=[r for r in dec['reasons'] if r!='low_confidence']
            top=v['top']
            if other: act='handoff';intent=None
            elif conf>=THR:
                if top in hi: act='handoff';intent=None
                else: act='answer';intent=top
            else: act='handoff';intent=None
        else:
            act=dec['action'];intent=dec['intent']
        top=(v or {}).get('top')
        if act=='handoff': m['hodec']+=1
        if d['expect']=='handoff':
            m['ho']+=1; m['horight']+=act=='handoff'
            if d['reason']=='low_confidence': m['off']+=1; m['offrej']+=act=='handoff'
        else:
            m['ins']+=1; m['right']+=(act=='answer' and intent==d['expect']); m['top1']+=top==d['expect']
    return m
def fmt(n,m):
    return '%-13s in %.3f ar %.3f off %.3f hrec %.3f hprec %.3f'%(n,m['right']/m['ins'],m['right']/max(m['top1'],1),m['offrej']/m['off'],m['horight']/m['ho'],m['horight']/m['hodec'])
names=sys.argv[1:]
data={n:load(n) for n in names}
tot_o=[];tot_n=[]
for n in names:
    b=fit([data[k] for k in names if k!=n])
    o=simulate(*data[n],None); s=simulate(*data[n],b)
    print('ORIG',fmt(n,o)); print('LOFO',fmt(n,s))
    tot_o.append(o);tot_n.append(s)
def agg(ms): 
    return {k:sum(m[k] for m in ms) for k in ms[0]}
print('ORIG',fmt('ALL',agg(tot_o)));print('LOFO',fmt('ALL',agg(tot_n)))
b=fit(list(data.values())); print('weights all:',np.round(b,3).tolist())
