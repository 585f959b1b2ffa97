/* docs/tools/: URL checker, config generator, capacity calculator, explain an error. This file only draws: every
   rule, message, snippet and number comes from the advisor package itself, run in this page by
   Pyodide (see docs/hooks/tools_runtime.py and advisor/webtools.py). Loaded only on the tool
   pages; everything comes from this site, and nothing typed leaves the page. */
(function () {
"use strict";
const SITE = new URL("../", document.currentScript.src).href;
const $ = id => document.getElementById(id), val = id => $(id).value;
const FORMS = ["uc-form", "cg-form", "pi-form", "cc-form", "ex-form"].filter(id => $(id));
if (!FORMS.length) return;

function el(tag, attrs, kids) {
  const n = document.createElement(tag);
  for (const k in attrs) if (attrs[k] != null) n.setAttribute(k, attrs[k]);
  n.append(...[].concat(kids).filter(x => x != null));
  return n;
}
const table = (caption, rows, head) => el("table", {}, [el("caption", {}, caption),
  head && el("thead", {}, el("tr", {}, head.map(h => el("th", { scope: "col" }, h)))), el("tbody", {}, rows)]);
const say = (out, cls, text) => out.append(el("p", { class: "adv-" + cls, "data-k": cls === "error" ? cls : "verdict" }, text));
const option = (value, text) => el("option", { value }, text);

// --- the runtime: Pyodide, then the package zip, then advisor.webtools.call(name, json) -> json
const getJSON = url => fetch(url, { cache: "no-cache" }).then(r => {
  if (!r.ok) throw new Error(`HTTP ${r.status} for ${url.slice(SITE.length)}`);
  return r.json();
});
const loadScript = src => new Promise((ok, fail) => {
  const s = el("script", { src });
  s.onload = ok;
  s.onerror = () => fail(new Error("could not load " + src.slice(SITE.length)));
  document.head.append(s);
});
async function boot() {
  const rt = await getJSON(SITE + "assets/advisor-runtime.json"), base = SITE + "assets/" + rt.pyodide;
  await loadScript(base + "pyodide.js");
  const [py, zip] = await Promise.all([
    loadPyodide({ indexURL: base, stdout: () => {}, stderr: () => {} }),
    fetch(SITE + "assets/" + rt.package).then(r => r.arrayBuffer())]);
  py.unpackArchive(zip, "zip", { extractDir: "/advisor-site" });
  py.runPython("import sys; sys.path.insert(0, '/advisor-site')");
  const door = py.pyimport("advisor.webtools").call;
  return (name, args) => JSON.parse(door(name, JSON.stringify(args || {})));
}
let call;

// --- URL checker: `advisor lint --format json`, drawn
const intOrNull = s => /^\s*\d+\s*$/.test(s) ? parseInt(s, 10) : null;

/** {url, direct_url, orm, serverless, prisma_version} -> what advisor.webtools.check_url returns. */
function advisorCheck(input) {
  const options = [].concat(input.driver_options || []).flatMap(o => String(o).split("\n")).map(o => o.trim()).filter(Boolean);
  return call("check_url", { url: input.url, direct_url: input.direct_url || "",
    orm: input.orm && input.orm !== "none" ? input.orm : null, serverless: input.serverless !== false,
    prisma_version: typeof input.prisma_version === "number" ? input.prisma_version : intOrNull(String(input.prisma_version || "")),
    driver: input.driver || null, driver_options: options, uses: input.uses || [] });
}

function endpointRows(prefix, e, shown, providers) {
  const pr = providers[e.provider];
  return [["URL", el("code", {}, shown)],
    ["Provider", pr ? [el("code", {}, e.provider), ` ${pr.name} `, el("a", { href: SITE + pr.docs_page + "/" }, "(provider page)")] : "unknown"],
    ["Endpoint", e.label], ["Role", e.role], ["Pooler", e.pooler], ["Pool mode", e.pool_mode]
  ].map(([h, v]) => el("tr", {}, [el("th", { scope: "row" }, h), el("td", { "data-k": prefix + h.toLowerCase().replace(" ", "_") }, v || "—")]));
}

function runChecker(ev) {
  ev && ev.preventDefault();
  const out = $("uc-result");
  out.textContent = "";
  const r = advisorCheck({ url: val("uc-url"), direct_url: val("uc-direct"), orm: val("uc-orm"),
    serverless: $("uc-serverless").checked, prisma_version: val("uc-prisma"),
    driver: val("uc-driver"), driver_options: val("uc-options"),
    uses: [...document.querySelectorAll("#uc-uses input:checked")].map(i => i.value) });
  if (r.error) return say(out, "error", "Invalid URL: " + r.error);
  const facts = r.report.facts, n = { pass: 0, warn: 0, fail: 0 };
  const rows = endpointRows("", facts.url.endpoint, r.report.target.url, r.providers);
  if (facts.direct_url) rows.push(el("tr", {}, el("th", { colspan: 2, scope: "rowgroup" }, "Direct (migration) URL")),
    ...endpointRows("direct_", facts.direct_url.endpoint, r.direct_url, r.providers));
  r.report.findings.forEach(x => n[x.status]++);
  out.append(table("What the URL points at", rows));
  say(out, n.fail ? "fail" : n.warn ? "warn" : "pass",
    `${n.fail ? "Fails" : "Passes"}: ${n.fail} fail, ${n.warn} warn, ${n.pass} pass (advisor lint would exit ${r.exit}).`);
  out.append(table("Findings", r.report.findings.map(x => el("tr", { "data-id": x.id }, [
    el("td", {}, el("a", { href: SITE + `checks/${x.id}/` }, x.id)), el("td", {}, x.title),
    el("td", { "data-k": "status", class: "adv-" + x.status }, [el("span", { "aria-hidden": "true" }, { pass: "✔ ", warn: "⚠ ", fail: "✖ " }[x.status]), x.status]),
    el("td", {}, x.message)])), ["Check", "Title", "Status", "Finding"]));
  const c = r.corrected;
  if (c) {
    out.append(el("h3", {}, `Corrected URL for ${c.stack}`), codeBlock("DATABASE_URL", c.url, "uc-corrected"));
    const what = [...c.added.map(a => `added ${a}`), ...c.removed.map(a => `removed ${a}`)];
    out.append(el("ul", { "data-k": "corrected" }, [
      el("li", {}, what.length ? what.join("; ") + "." : "Nothing to change in the URL for this stack."),
      ...c.in_code.map(o => el("li", {}, `Set ${o} in the code (the driver does not read it from the URL).`)),
      c.url.includes(":***@") ? el("li", {}, "Put your password back in place of ***.") : null]));
  }
}

// --- config generator (advisor/configgen.py): the site's own code blocks (Material's
// markup and copy button, which the theme's clipboard handler serves)
function codeBlock(title, text, id) {
  const code = el("code", {}, text);
  const copy = el("button", { type: "button", class: "md-clipboard md-icon", title: "Copy to clipboard",
    "aria-label": "Copy " + title, "data-clipboard-target": `#${id} > code` });
  return el("div", { class: "adv-block highlight", "data-title": title }, [
    el("span", { class: "filename" }, title), el("pre", { id }, [copy, code])]);
}

let endpointsOf = "";
function fillEndpoints(choices) {
  const pid = val("cg-provider"), sel = $("cg-endpoint");
  if (pid === endpointsOf) return;
  endpointsOf = pid;
  const p = choices.providers.find(x => x.id === pid);
  sel.textContent = "";
  sel.append(option("", "The pooled endpoint (transaction mode first)"),
    ...p.endpoints.map(e => option(e.id, `${e.name} (${e.engine}, ${e.role})`)));
}

function runGenerator(ev) {
  ev && ev.preventDefault();
  fillEndpoints(CHOICES);
  const orm = val("cg-orm"), out = $("cg-result");
  const g = call("generate_config", { provider: val("cg-provider"), orm, platform: val("cg-platform"),
    prisma: +val("cg-prisma"), endpoint: val("cg-endpoint") || null });
  $("cg-prisma-field").hidden = orm !== "prisma";
  out.textContent = "";
  if (g.error) return say(out, "error", g.error);
  g.blocks.forEach(([title, text], i) => out.append(codeBlock(title, text, "cg-code-" + i)));
  out.append(el("ul", {}, g.notes.map(n => el("li", {}, n))));
}

function runIni(ev) {
  ev && ev.preventDefault();
  const out = $("pi-result"), num = id => Number(val("pi-" + id));
  const r = call("pooler_ini", { stack: val("pi-stack"), instances: num("instances"), pool_size: num("pool"),
    max_connections: num("max"), reserved: num("reserved"), in_use: num("inuse"), version: val("pi-version"),
    pool_mode: val("pi-mode") });
  out.textContent = "";
  if (r.error) return say(out, "error", r.error);
  out.append(codeBlock(r.title, r.file, "pi-code"));
  if (r.notes.length) out.append(el("ul", {}, r.notes.map(n => el("li", {}, n))));
}

// --- capacity calculator (advisor/calculator.py)
// Connections wanted against the free slots, on one scale (the larger of wanted and usable).
function demandBar(b) {
  const top = Math.max(b.demand, b.usable) || 1, width = x => `width: ${Math.min(100, 100 * x / top)}%`;
  const row = (label, cls, value) => el("div", { class: "cc-bar-row" }, [el("span", { class: "cc-bar-label" }, label),
    el("span", { class: "cc-bar-track" }, el("span", { class: "cc-bar cc-bar--" + cls, style: width(value), "data-value": value }))]);
  return el("div", { class: "cc-bars", "data-k": "bar", role: "img",
    "aria-label": `${b.demand} server connections wanted, ${b.free} of ${b.usable} usable slots free` }, [
    row(`wanted: ${b.demand}`, b.demand > b.free ? "over" : "ok", b.demand),
    row(`free: ${b.free} of ${b.usable}`, "free", b.free)]);
}

function runCapacity(ev) {
  ev && ev.preventDefault();
  const out = $("cc-result"), pooler = $("cc-pooler").checked, num = id => val("cc-" + id).trim() === "" ? null : Number(val("cc-" + id));
  $("cc-pooler-fields").hidden = !pooler;
  out.textContent = "";
  const r = call("capacity", { max_connections: num("max"), reserved: num("reserved"), in_use: num("inuse"),
    instances: num("instances"), pool_size: num("pool"), pooler, default_pool_size: pooler ? num("dps") : null,
    max_client_conn: pooler ? num("mcc") : null });
  if (r.error) return say(out, "error", r.error);
  say(out, r.status, r.verdict);
  if (r.advice) out.append(el("p", { "data-k": "advice" }, r.advice));
  if (r.bar) out.append(demandBar(r.bar));
  const cut = r.sizes.indexOf(": ") + 2;  // "Pooler sizes to use: " in bold
  out.append(el("ol", { "data-k": "math" }, r.lines.map(l => el("li", {}, l))),
    el("p", {}, [el("strong", {}, r.sizes.slice(0, cut)), r.sizes.slice(cut)]));
}

// --- explain an error (advisor/explain.py through advisor.webtools.explain_error)
function runExplain(ev) {
  ev && ev.preventDefault();
  const out = $("ex-result"), [kind, id] = val("ex-stack").split(":");
  out.textContent = "";
  if (!val("ex-text").trim()) return;
  const r = call("explain_error", { text: val("ex-text"), orm: kind === "orm" ? id : null, driver: kind === "driver" ? id : null });
  if (r.error) return say(out, "error", r.error);
  if (!r.matches.length) return say(out, "warn", "No known error signature matched (advisor explain would exit 1).");
  say(out, "pass", `${r.matches.length} known error${r.matches.length > 1 ? "s" : ""}, best match first.`);
  for (const m of r.matches) {
    const rows = [["Raised by", `${m.raised_by.name} (${m.raised_by.kind})`], ["Matched", el("code", {}, m.matched)],
      ["What it means", m.cause], ["Fix", m.fix],
      ...(r.stack || !Object.keys(m.fixes).length ? [] : [["Fix per stack", el("ul", {}, Object.entries(m.fixes).map(([k, v]) =>
        el("li", {}, [el("strong", {}, k), ": ", el("code", {}, v)])))]])].map(([h, v]) => el("tr", {}, [el("th", { scope: "row" }, h), el("td", { "data-k": h.toLowerCase().replace(/ /g, "_") }, v)]));
    out.append(el("div", { class: "adv-block", "data-id": m.id }, [
      el("strong", {}, el("a", { href: SITE + `errors/${m.id}/` }, m.title)), " ", el("code", {}, m.id), el("table", {}, el("tbody", {}, rows))]));
  }
}

// --- wiring: forms wait (disabled, with a status line) until Python is up
const TOOLS = { "uc-form": runChecker, "cg-form": runGenerator, "pi-form": runIni, "cc-form": runCapacity, "ex-form": runExplain };
let CHOICES;
const stackGroups = stacks => ["orm", "driver"].map(kind => el("optgroup", { label: kind === "orm" ? "ORMs" : "Drivers" },
  stacks.filter(s => s.kind === kind).map(s => option(s.id, `${s.name} (${s.language})`))));
function fillChoices() {
  const c = CHOICES = call("config_choices"), cg = $("cg-provider"), uc = $("uc-orm");
  if (cg) {
    cg.append(...c.providers.map(p => option(p.id, p.name)));
    $("cg-orm").append(...stackGroups(c.stacks));
    $("cg-platform").append(...c.platforms.map(p => option(p.id, p.name)));
  }
  if ($("pi-stack")) $("pi-stack").append(...stackGroups(c.ini_stacks));
  if ($("ex-stack")) $("ex-stack").append(...c.checker_orms.map(o => option("orm:" + o.id, o.name)),
    ...c.drivers.map(d => option("driver:" + d.id, d.name)));
  if (uc) {
    uc.append(...c.checker_orms.map(o => option(o.id, o.name)));
    $("uc-driver").append(...c.drivers.map(d => option(d.id, d.name)));
    $("uc-uses").append(...c.uses.map(u => el("div", { class: "adv-field adv-inline" }, [
      el("input", { type: "checkbox", id: "uc-uses-" + u.id, value: u.id }), el("label", { for: "uc-uses-" + u.id }, u.name)])));
  }
}
const status = (id, text) => { $(id).querySelector("[data-status]").textContent = text; };
FORMS.forEach(id => status(id, "Loading the checks: Python starts in this page (about 13 MB, the first time only)…"));
boot().then(door => {
  call = door;
  fillChoices();
  for (const id of FORMS) {
    const f = $(id), run = TOOLS[id];
    for (const type of id === "uc-form" || id === "ex-form" ? ["submit", "change"] : ["submit", "change", "input"]) f.addEventListener(type, run);
    status(id, "");
    f.setAttribute("data-ready", "");
    if (id !== "uc-form" && id !== "ex-form") run();
  }
  window.advisorCheck = advisorCheck;
}).catch(e => {
  const why = String(e.message).trim().split("\n").pop();  // a Python error's last line says what
  FORMS.forEach(id => status(id, `Could not start the tools (${why}); reload the page.`));
});
})();
