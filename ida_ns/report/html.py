"""The one-file HTML report: inline CSS, JS and SVG; no network, works from ``file://``.

Static parts (KPI plots, totals, lineage, audit status) are rendered here with every value
escaped; the per-problem data goes into one ``<script type="application/json">`` block (with
``<`` escaped, so no data can close the script) and the page's script renders it lazily: the
problem table a page at a time, a proof tree's children only when a node is opened.  All data
reaches the page through ``textContent``, never as markup."""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path

from .rundata import RunData, load_run
from .svg import line_chart

H_ALONE_KEYS = ("heldout_H", "h_alone_solved", "heldout_h_solved", "heldout_H_solved",
                "H_alone_solved",
                "heldout_h_alone_solved")


def _json_for_script(obj) -> str:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=str)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _h_alone(row: dict):
    for k in H_ALONE_KEYS:
        if _num(row.get(k)) is not None:
            return row[k]
    for k, v in row.items():  # a newer loop may name it differently
        if "h_alone" in k.lower() and "solved" in k.lower() and _num(v) is not None:
            return v
    return None


def kpi_section(data: RunData) -> str:
    rows = data.metrics
    if not rows:
        return ('<section id="kpis"><h2>KPIs across rounds</h2><p class="muted">no '
                'metrics.jsonl rows in this run (it stopped before the first evaluation)</p>'
                '</section>')
    xs = [r.get("round", i) for i, r in enumerate(rows)]
    total = next((_num(r.get("heldout_total")) for r in reversed(rows)
                  if _num(r.get("heldout_total")) is not None), None)
    series = []
    h = [_h_alone(r) for r in rows]
    if any(v is not None for v in h):
        series.append(("H alone", h))
    series += [("proxy + H", [r.get("heldout_solved") for r in rows]),
               ("proxy alone", [r.get("proxy_only_solved") for r in rows])]
    solved = line_chart("held-out goals solved" + (f" (of {total})" if total else ""), xs,
                        series, integer=True, y_max=total)
    human = {h["round"]: h["human_override_rate"] for h in data.human}
    pseries = [("proxy precision", [r.get("proxy_precision") for r in rows]),
               ("H overrides / node", [r.get("overrides") for r in rows]),
               ("agreement with H", [r.get("agree_H") for r in rows])]
    if any(h.get("human_steps") for h in data.human):
        pseries.append(("human steps / node", [human.get(x) for x in xs]))
    proxy = line_chart("proxy: precision and overrides", xs, pseries, integer=False, y_max=1.0)
    abf = [r.get("accepted_but_false") for r in rows]
    abf_total = sum(v for v in abf if _num(v) is not None)
    false = line_chart(f"accepted but false (total {abf_total})", xs,
                       [("accepted but false", abf)], integer=True)
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    additive = {"pairs", "time_s", "accepted_but_false"}
    head = "".join(f"<th>{escape(k)}</th>" for k in keys)
    body = []
    for r in rows:
        body.append("<tr>" + "".join(f"<td>{escape(_cell(r.get(k)))}</td>" for k in keys)
                    + "</tr>")
    tot = []
    for k in keys:
        vals = [_num(r.get(k)) for r in rows if _num(r.get(k)) is not None]
        if k == "round":
            tot.append("total")
        elif k in additive and vals:
            tot.append(_cell(round(sum(vals), 3)))
        elif vals:
            tot.append("last " + _cell(vals[-1]))
        else:
            tot.append("")
    body.append('<tr class="total">' + "".join(f"<td>{escape(t)}</td>" for t in tot) + "</tr>")
    htable = ""
    if data.human:
        htable = ("<h3>Human overseer</h3><table><tr><th>round</th><th>human steps</th>"
                  "<th>human steps on proofs</th><th>goals expanded</th>"
                  "<th>human-override frequency</th></tr>" + "".join(
                      f"<tr><td>{h['round']}</td><td>{h['human_steps']}</td>"
                      f"<td>{h['human_used']}</td><td>{h['expanded']}</td>"
                      f"<td>{h['human_override_rate']:.3f}</td></tr>" for h in data.human)
                  + "</table>")
    return (f'<section id="kpis"><h2>KPIs across rounds</h2><div class="charts">{solved}'
            f'{proxy}{false}</div><div class="scroll"><table class="metrics"><tr>{head}</tr>'
            f'{"".join(body)}</table></div>{htable}</section>')


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v)[:200]
    return str(v)


def lineage_section(data: RunData) -> str:
    if not data.lineage:
        return ('<section id="lineage"><h2>Proxy lineage</h2><p class="muted">no proxy '
                'generations in this run</p></section>')
    rows = []
    for g in data.lineage:
        loss = g.get("loss")
        loss = f"{loss:.4f}" if _num(loss) is not None else "-"
        rows.append("<tr>" + "".join(f"<td>{escape(str(x))}</td>" for x in (
            g["generation"], g["parent"], g["pairs"], loss)) +
            f'<td class="hash" title="{escape(str(g["dataset_sha256"]))}">'
            f'{escape(str(g["dataset_sha256"])[:16])}</td>'
            f'<td class="hash" title="{escape(str(g["model_sha256"]))}">'
            f'{escape(str(g["model_sha256"])[:16])}</td></tr>')
    return ('<section id="lineage"><h2>Proxy lineage</h2><table><tr><th>generation</th>'
            '<th>parent</th><th>pairs</th><th>loss</th><th>data sha256</th><th>model sha256</th>'
            '</tr>' + "".join(rows) + "</table></section>")


def audit_section(data: RunData) -> str:
    a = data.audit
    if a.get("ok") is None:
        cls, text = "warn", "no audit log in this run"
    elif a["ok"]:
        cls, text = "ok", f"audit chain verified up to record {a['records']} (all records)"
    else:
        cls, text = "bad", (f"audit chain BROKEN: verified up to record {a['records']}; "
                            f"first bad record {a.get('broken_at')}: {a.get('reason')}")
    by = a.get("accepted_by_source") or {}
    extra = ""
    if by:
        extra = "<p>accepted steps in the log by source: " + ", ".join(
            f"{escape(str(k))}: {v}" for k, v in sorted(by.items())) + "</p>"
    return (f'<section id="audit"><h2>Audit log</h2><p class="{cls}" id="audit-status">'
            f'{escape(text)}</p>{extra}</section>')


def _summary(data: RunData) -> str:
    n = len(data.problems)
    proved = sum(1 for p in data.problems if p["attempts"]
                 and any(a.get("status") == "proved" for a in p["attempts"]))
    rounds = len(data.metrics)
    cfg = data.config
    bits = [f"{n} training problems", f"{proved} proved in some round", f"{rounds} rounds"]
    if cfg.get("spec"):
        bits.append(f"problem set {cfg['spec']}")
    if data.state.get("phase"):
        bits.append(f"state: round {data.state.get('round')} {data.state.get('phase')}")
    warn = "".join(f'<p class="warn">{escape(w)}</p>' for w in data.warnings)
    return '<p class="summary">' + escape(" · ".join(bits)) + "</p>" + warn


def render_page(title: str, static_html: str, payload: dict) -> str:
    import re

    fill = {"__TITLE__": escape(title), "__STATIC__": static_html,
            "__DATA__": _json_for_script(payload),
            "__GENERATED__": escape(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))}
    # one pass over the template: text inserted for one placeholder is never re-scanned
    return "".join(fill.get(part, part) for part in
                   re.split(r"(__TITLE__|__STATIC__|__DATA__|__GENERATED__)", PAGE))


def _write(out, text: str) -> None:
    import os

    from ..storage import atomic_write_text

    atomic_write_text(out, text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out, 0o666 & ~umask)  # a report is for reading: the usual file mode


def write_run_report(run_dir: Path, out: Path) -> dict:
    data = load_run(run_dir)
    static = (_summary(data) + kpi_section(data) + lineage_section(data) + audit_section(data))
    payload = {"kind": "run", "problems": data.problems}
    _write(out, render_page(f"ida-ns run {Path(run_dir).name}", static, payload))
    a = data.audit
    audit = ("absent" if a.get("ok") is None else
             f"ok up to record {a['records']}" if a["ok"] else f"broken at {a.get('broken_at')}")
    return {"problems": len(data.problems), "rounds": len(data.metrics), "audit": audit}


def write_proof_report(out, file: str, record: dict, problem=None) -> None:
    """One problem's proof (``prove --html``): ``record`` is a report tree record
    (:func:`ida_ns.report.tree.result_tree`, or an interactive session's)."""
    static = (f'<p class="summary">{escape(str(file))}: {escape(str(record.get("status")))}'
              + (f' — {escape(str(record.get("reason")))}' if record.get("reason") else "")
              + "</p>")
    payload = {"kind": "proof", "problems": [{"id": str(file), "label": None,
                                              "attempts": [{"round": None,
                                                            "status": record.get("status"),
                                                            "time_s": record.get("time_s"),
                                                            "report": record}]}]}
    _write(out, render_page(f"ida-ns proof {Path(str(file)).name}", static, payload))


PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1250px;
padding:12px 20px;color:#222}
h1{font-size:20px;margin:6px 0}h2{font-size:16px;border-bottom:1px solid #ddd;margin-top:22px}
h3{font-size:14px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 7px;
text-align:left;vertical-align:top}th{background:#f4f4f4}
tr.total td{font-weight:600;background:#fafafa}#kpis td{white-space:nowrap}.scroll{overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:10px}.chart{border:1px solid #eee;background:#fff}
.ct{font-size:13px;font-weight:600}.tk{font-size:10px;fill:#555}.lg{font-size:10px}
.muted{color:#777}.ok{color:#176317;font-weight:600}.bad{color:#b00;font-weight:700}
.warn{color:#a15c00}.hash{font-family:monospace;font-size:12px}
#search{width:360px;padding:4px 8px;font-size:14px}
#problems tr.row{cursor:pointer}#problems tr.row:hover{background:#f2f7ff}
#problems tr.sel{background:#e3efff}
.st-proved{color:#176317;font-weight:600}.st-refuted{color:#b00;font-weight:600}
.st-unknown{color:#a15c00;font-weight:600}
code,.goal,.step{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
details{margin-left:14px;border-left:2px solid #e4e4e4;padding-left:6px}
details>summary{cursor:pointer;padding:1px 0}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;margin-left:4px;
color:#fff;background:#777}.b-H{background:#555}.b-proxy{background:#1f77b4}
.b-human{background:#9c27b0}.b-hindsight{background:#2ca02c}.b-open{background:#d68400}
.b-H-override{background:#8c564b}
.nb{margin:2px 0 4px 4px}.sg{color:#555}.hyp{color:#444}.rej{color:#a00}.cex{color:#700;font-weight:600}
.attempt{border:1px solid #ddd;border-radius:4px;padding:6px 10px;margin:8px 0}
</style></head>
<body>
<h1>__TITLE__</h1>
<p class="muted">generated __GENERATED__ by ida-ns · self-contained (no network)</p>
__STATIC__
<section id="problems-section"><h2>Problems</h2>
<input id="search" type="search" placeholder="search problems (id, status, goal text)"
 aria-label="search problems">
<span id="count" class="muted"></span>
<table id="problems"><thead><tr><th>problem</th><th>label</th><th>status (last round)</th>
<th>rounds</th><th>steps by source (last proof)</th><th>time s</th></tr></thead>
<tbody></tbody></table>
<button id="more" type="button">show more</button>
<div id="detail"></div>
</section>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
(function(){
const D = JSON.parse(document.getElementById("data").textContent);
const P = D.problems || [];
const PAGE = 100;
let shown = 0, matches = P;
const tbody = document.querySelector("#problems tbody");
const more = document.getElementById("more");
const count = document.getElementById("count");
const detail = document.getElementById("detail");
function el(tag, cls, text){const e=document.createElement(tag); if(cls) e.className=cls;
  if(text!==undefined && text!==null) e.textContent=String(text); return e;}
function last(p){return p.attempts && p.attempts.length ? p.attempts[p.attempts.length-1] : {};}
function sources(t){const c={}; if(!t) return c; const st=[t];
  while(st.length){const n=st.pop(); if(n.step!==null && n.step!==undefined){
    const s=n.source||"?"; c[s]=(c[s]||0)+1;} (n.children||[]).forEach(x=>st.push(x));}
  return c;}
function srcText(a){const r=a.report; let c={};
  if(r && r.tree){c=sources(r.tree); (r.lemmas||[]).forEach(l=>{const d=sources(l.tree);
    for(const k in d) c[k]=(c[k]||0)+d[k];});}
  else if(a.stats && a.stats.used){c=a.stats.used;}
  return Object.keys(c).sort().map(k=>k+": "+c[k]).join(", ");}
const hay = P.map(p=>{const a=last(p); let g="";
  const r=a.report||{}; const t=r.tree||r.explored; if(t) g=t.goal||"";
  return (p.id+" "+(a.status||"")+" "+g).toLowerCase();});
function row(p){
  const a=last(p); const tr=el("tr","row"); tr.dataset.id=p.id;
  tr.appendChild(el("td","",p.id));
  tr.appendChild(el("td","",p.label===true?"true":p.label===false?"false":"-"));
  tr.appendChild(el("td","st-"+(a.status||"none"),a.status||"-"));
  tr.appendChild(el("td","",(p.attempts||[]).map(x=>x.round).filter(x=>x!==null&&x!==undefined).join(",")||"-"));
  tr.appendChild(el("td","",srcText(a)));
  tr.appendChild(el("td","",a.time_s!=null?a.time_s:"-"));
  tr.addEventListener("click",()=>{document.querySelectorAll("#problems tr.sel").forEach(
    x=>x.classList.remove("sel")); tr.classList.add("sel"); showProblem(p);});
  return tr;}
function renderMore(){
  const frag=document.createDocumentFragment();
  const end=Math.min(matches.length, shown+PAGE);
  for(let i=shown;i<end;i++) frag.appendChild(row(matches[i]));
  tbody.appendChild(frag); shown=end;
  more.style.display = shown<matches.length ? "" : "none";
  count.textContent = matches.length+" of "+P.length+" problems"+
    (shown<matches.length? " (showing "+shown+")":"");}
function filter(q){
  q=q.trim().toLowerCase(); const words=q.split(/\s+/).filter(Boolean);
  matches = words.length ? P.filter((p,i)=>words.every(w=>hay[i].indexOf(w)>=0)) : P;
  tbody.textContent=""; shown=0; renderMore();}
let timer=null;
document.getElementById("search").addEventListener("input",e=>{
  clearTimeout(timer); const v=e.target.value; timer=setTimeout(()=>filter(v),120);});
more.addEventListener("click",renderMore);
function short(t){t=String(t||"?"); return t.length>90? t.slice(0,87)+"...": t;}
function badge(s){return el("span","badge b-"+String(s).replace(/[^A-Za-z-]/g,""),s);}
function nodeBody(n, box){
  if(n.fixed && n.fixed.length) box.appendChild(el("div","goal hyp","fix "+n.fixed.join(", ")));
  (n.hyps||[]).forEach((h,i)=>box.appendChild(el("div","goal hyp","H"+i+": "+h)));
  box.appendChild(el("div","goal","⊢ "+(n.goal||"?")));
  const info=[];
  if(n.solver) info.push("closed by "+n.solver+(n.time_s!=null?" in "+n.time_s+"s":""));
  if(n.uses && n.uses.length) info.push("lemmas used: "+n.uses.join(", "));
  if(n.conf!==undefined && n.conf!==null) info.push("confidence "+n.conf);
  if(info.length) box.appendChild(el("div","muted",info.join(" · ")));
  (n.rejected||[]).forEach(r=>{const d=el("div","rej","rejected"+(r.source?" ("+r.source+")":"")+
    ": "+r.step+" — "+r.reason); box.appendChild(d);
    if(r.cex && Object.keys(r.cex).length){box.appendChild(el("div","cex","counterexample: "+
      Object.keys(r.cex).map(k=>k+" = "+r.cex[k]).join(", ")));}});}
function treeNode(n, open){
  const d=document.createElement("details");
  const s=document.createElement("summary");
  const alts=n.alternatives||[];
  if((n.step===null || n.step===undefined) && alts.length){
    s.appendChild(el("span","goal sg",short(n.goal)+"  "));
    s.appendChild(el("span","muted",alts.length+" step(s) accepted here, none finished"));}
  else if(n.step===null || n.step===undefined){s.appendChild(badge("open"));
    s.appendChild(el("span","goal"," "+(n.goal||"?")));}
  else{s.appendChild(el("span","goal sg",short(n.goal)+"  "));
    s.appendChild(el("span","step",n.step)); if(n.source) s.appendChild(badge(n.source));
    if(n.conf!=null) s.appendChild(el("span","muted"," p="+n.conf));
    if(n.solver) s.appendChild(el("span","muted"," ["+n.solver+(n.time_s!=null?" "+n.time_s+"s":"")+"]"));
    const k=(n.children||[]).length; if(k) s.appendChild(el("span","muted"," → "+k+" subgoal"+(k>1?"s":"")));}
  d.appendChild(s);
  let built=false;
  function build(){ if(built) return; built=true; const box=el("div","nb"); nodeBody(n, box);
    d.appendChild(box); (n.children||[]).forEach(c=>d.appendChild(treeNode(c,false)));
    alts.forEach(a=>{const ad=document.createElement("details"); const as=document.createElement("summary");
      as.appendChild(el("span","step",a.step)); if(a.source) as.appendChild(badge(a.source));
      if(a.conf!=null) as.appendChild(el("span","muted"," p="+a.conf));
      as.appendChild(el("span","muted"," → "+(a.children||[]).length+" subgoal(s)"));
      ad.appendChild(as); let ab=false; ad.addEventListener("toggle",()=>{ if(ad.open && !ab){ab=true;
        (a.children||[]).forEach(c=>ad.appendChild(treeNode(c,false)));}});
      d.appendChild(ad);});}
  d.addEventListener("toggle",()=>{ if(d.open) build(); });
  if(open){ d.open=true; build(); }
  return d;}
function showAttempt(a, box){
  const r=a.report||{};
  const h=el("div","");
  h.appendChild(el("strong","",(a.round!==null&&a.round!==undefined?"round "+a.round+": ":"")));
  h.appendChild(el("span","st-"+(a.status||r.status||"none"),a.status||r.status||"-"));
  if(a.time_s!=null) h.appendChild(el("span","muted"," in "+a.time_s+"s"));
  if(r.reason) h.appendChild(el("span","muted"," — "+r.reason));
  box.appendChild(h);
  if(r.counterexample){box.appendChild(el("div","cex","counterexample: "+Object.keys(
    r.counterexample).map(k=>k+" = "+r.counterexample[k]).join(", ")));}
  if(r.tree){box.appendChild(el("div","muted","proof tree (click a node to open it):"));
    box.appendChild(treeNode(r.tree,true));}
  else if(r.explored){box.appendChild(el("div","muted","no proof"+(r.reason?" ("+r.reason+")":"")+
    "; what the search tried (open leaves marked):"));
    box.appendChild(treeNode(r.explored,true));}
  else if(a.status==="unknown"){box.appendChild(el("div","muted",
    "no proof: the goal stayed open"+(r.reason?" ("+r.reason+")":"")));}
  (r.lemmas||[]).forEach(l=>{box.appendChild(el("div","","lemma "+l.name+": "));
    box.lastChild.appendChild(el("code","",l.formula)); if(l.tree) box.appendChild(treeNode(l.tree,false));});
  if(r.rejected && r.rejected.length){const d=document.createElement("details");
    d.appendChild(el("summary","rej",r.rejected.length+" rejected proposal(s)"));
    r.rejected.forEach(x=>{d.appendChild(el("div","rej",x.step+" — "+x.reason));
      if(x.cex && Object.keys(x.cex).length) d.appendChild(el("div","cex","counterexample: "+
        Object.keys(x.cex).map(k=>k+" = "+x.cex[k]).join(", ")));});
    box.appendChild(d);}
  if(!r.tree && a.pairs && a.pairs.length){box.appendChild(el("div","muted",
    "verified (goal → step) pairs of this proof (this run stored no tree):"));
    const ul=el("ul",""); a.pairs.slice(0,50).forEach(p=>{const li=el("li","goal",
      String(p[0])+"  ⟶  "+String(p[2])); ul.appendChild(li);}); box.appendChild(ul);}
  if(a.stats && Object.keys(a.stats).length){box.appendChild(el("div","muted","search: "+
    JSON.stringify(a.stats)));}}
function showProblem(p){
  detail.textContent="";
  detail.appendChild(el("h3","","problem "+p.id));
  (p.attempts||[]).slice().reverse().forEach(a=>{const box=el("div","attempt");
    showAttempt(a, box); detail.appendChild(box);});
  detail.scrollIntoView({block:"nearest"});}
filter("");
if(P.length===1) showProblem(P[0]);
document.body.dataset.ready="1";
})();
</script>
</body></html>
"""
