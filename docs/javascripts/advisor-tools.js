/* docs/tools/: URL checker, config generator, capacity calculator. Data: assets/advisor-data.json, fetched
   once; nothing typed leaves the page. Ports target.py, urlfacts.py, match_endpoint, checks/url.py. */
(function () {
"use strict";
const SITE = new URL("../", document.currentScript.src).href, MASK = "***";
const DEC = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
let D, G, P = {}, CHK = {};

const has = (o, k) => o != null && Object.hasOwn(o, k);
const dict = () => Object.create(null);
const Bad = msg => Object.assign(new Error(msg), { invalidUrl: true });
const safe = s => String(s).replace(/[\x00-\x1f\x7f-\x9f]/g, "?").slice(0, 40);
const full = rx => new RegExp(`^(?:${rx})$`, "i");
const digits = s => /^\d+$/.test(s);
let SECRET;  // credential-like parameter names (target.py)
const PARTS = ["host", "port", "dbname", "user", "password"];

// --- parsing (target.py)
function unq(s, what) {
  s = s.replace(/(?:%[0-9A-Fa-f]{2})+/g, m => {
    try { return DEC.decode(Uint8Array.from(m.slice(1).split("%"), h => parseInt(h, 16))); }
    catch (e) { throw Bad(`the ${what} is not valid percent-encoded UTF-8`); }
  });
  if (s.includes("\0")) throw Bad(`the ${what} contains a NUL character (%00)`);
  return s;
}
function port(s) {
  if (s === "") return null;
  if (!digits(s) || !(+s > 0 && +s < 65536)) throw Bad(`invalid port${digits(s) ? ` '${s.slice(0, 12)}'` : ""}: use 1 to 65535`);
  return +s;
}
const KW = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/y;

function parse(text) {
  if (!text || !text.trim()) throw Bad("no database URL given");
  text = text.trim();
  if (/[\x00-\x1f]/.test(text)) throw Bad("the URL contains control characters");
  if (text.includes("://")) return parseUrl(text);
  KW.lastIndex = 0;
  if (KW.test(text)) return parseKeywords(text);
  throw Bad("not a database URL: expected postgresql://, mysql:// or host=... dbname=...");
}

function parseUrl(text) {
  const i = text.indexOf("://"), st = text.slice(0, i), rest = text.slice(i + 3);
  const [base, ...drv] = st.toLowerCase().split("+"), driver = drv.join("+");
  if (!has(G.schemes, base) || (driver && !/^[a-z0-9_]+$/.test(driver)))
    throw Bad("unsupported scheme: use postgresql://, postgres://, mysql:// or mariadb://");
  const engine = G.schemes[base], cut = rest.search(/[/?]|$/), auth = rest.slice(0, cut), tail = rest.slice(cut);
  const at = auth.lastIndexOf("@"), ui = auth.slice(0, Math.max(at, 0)), c = ui.indexOf(":");
  let user = at < 0 ? null : unq(c < 0 ? ui : ui.slice(0, c), "user name");
  let pw = c < 0 ? null : unq(ui.slice(c + 1), "password"), [host, prt] = hostPort(auth.slice(at + 1));
  const qi = tail.search(/\?|$/), path = tail.slice(0, qi), raw = dict();
  if (path.slice(1).includes("/")) throw Bad("the database name contains '/'; encode it as %2F");
  let db = path.length > 1 ? unq(path.slice(1), "database name") : null;
  for (const piece of tail.slice(qi + 1).split("&")) {
    if (!piece) continue;
    const e = (piece + "=").indexOf("="), k = unq(piece.slice(0, e).replace(/\+/g, " "), "parameter name");
    if (!k) throw Bad("empty parameter name in the query string");
    raw[k] = unq(piece.slice(e + 1), "value of " + safe(k));
  }
  const ov = dict();   // libpq lets the query override URL parts
  for (const k of PARTS) if (k in raw) { ov[k] = raw[k]; delete raw[k]; }
  if (engine === "mysql" && "socket" in raw) { ov.host = raw.socket; delete raw.socket; }
  if ("host" in ov) host = ov.host || null;
  if ("port" in ov) prt = port(ov.port);
  if ("dbname" in ov) db = ov.dbname || null;
  if ("user" in ov) user = ov.user;
  if ("password" in ov) pw = ov.password;
  return target(engine, base, host, prt, db, user, pw, raw, "url", driver);
}

function hostPort(hp) {
  if (hp.includes(",")) throw Bad("several hosts in one URL are not supported");
  if (hp[0] === "[") {
    const end = hp.indexOf("]"), after = hp.slice(end + 1);
    if (end < 0) throw Bad("unterminated IPv6 address: '[' without ']'");
    const h = unq(hp.slice(1, end), "host");
    if (!/^[0-9A-Za-z:.%]+$/.test(h) || !h.includes(":")) throw Bad("invalid IPv6 address in brackets");
    if (after && after[0] !== ":") throw Bad("unexpected text after the IPv6 address");
    return [h, after ? port(after.slice(1)) : null];
  }
  if (hp.includes("]")) throw Bad("unexpected ']' in the host");
  const c = hp.lastIndexOf(":"), host = unq(c < 0 ? hp : hp.slice(0, c), "host");
  if (host && host[0] !== "/" && !/^[A-Za-z0-9._-]+$/.test(host)) throw Bad("invalid host name");
  return [host || null, c < 0 ? null : port(hp.slice(c + 1))];
}

function parseKeywords(text) {
  const v = dict();
  let pos = 0, m;
  while (pos < text.length) {
    KW.lastIndex = pos;
    if (!(m = KW.exec(text))) {
      if (text.slice(pos).trim()) throw Bad("invalid keyword string: expected key=value pairs");
      break;
    }
    let s = "";
    pos = KW.lastIndex;
    if (text[pos] === "'") {
      for (pos++; text[pos] !== "'"; pos++) {
        if (pos >= text.length) throw Bad("unterminated quoted value in the keyword string");
        s += text[pos] === "\\" && pos + 1 < text.length ? text[++pos] : text[pos];
      }
      pos++;
    } else {
      const end = text.slice(pos).search(/\s|$/) + pos;
      s = text.slice(pos, end).replace(/\\/g, "");
      pos = end;
    }
    v[m[1]] = s;
  }
  const bad = Object.keys(v).find(k => !G.libpq_params.includes(k) && !PARTS.includes(k));
  if (bad) throw Bad(`unknown connection keyword '${safe(bad.slice(0, 30))}'`);
  if ((v.host || "").includes(",")) throw Bad("several hosts in one DSN are not supported");
  let host = v.host || null;
  if (host && host.includes(":") && host[0] !== "/") host = host.replace(/^[[\]]+|[[\]]+$/g, "");
  const t = target("postgresql", "postgresql", host, port(v.port || ""), v.dbname || null,
                   "user" in v ? v.user : null, "password" in v ? v.password : null, dict(), "keywords");
  PARTS.forEach(k => delete v[k]);
  validate(t, t.params = v);
  return t;
}

function target(engine, scheme, host, prt, db, user, pw, raw, form, driver) {
  const t = { engine, scheme, host, port: prt, database: db, user, password: pw, form, driver,
              params: dict(), client: dict(), unknown: dict(), eport: prt || G.default_ports[engine],
              socket: !!host && host[0] === "/" }, pg = engine === "postgresql";
  for (const k in raw) {
    if ((pg ? G.libpq_params : G.mysql_params).includes(k)) t.params[k] = raw[k];
    else if ((pg ? G.pg_client_params : G.mysql_client_params).includes(k)) t.client[k] = raw[k];
    else t.unknown[safe(k)] = raw[k];
  }
  validate(t, t.params);
  return t;
}

function validate(t, p) {
  const pg = t.engine === "postgresql", key = pg ? "sslmode" : "ssl-mode", modes = pg ? G.sslmodes : G.mysql_ssl_modes;
  if (has(p, key)) {
    const mode = pg ? p[key] : p[key].toUpperCase();
    if (!modes.includes(mode)) throw Bad(`unknown ${key} '${safe(p[key].slice(0, 20))}'`);
    p[key] = mode;
  }
  if (pg && has(p, "connect_timeout") && !/^-?\d+$/.test(p.connect_timeout.trim()))
    throw Bad("connect_timeout must be a whole number of seconds");
}

const allParams = t => Object.assign(dict(), t.params, t.client, t.unknown);

/** The redacted URL (Target.display; keyword strings as URLs): the only form shown. */
function display(t) {
  const ps = Object.entries(allParams(t)).map(([k, v]) => [k, SECRET.test(k) ? MASK : v]), e = encodeURIComponent;
  const ui = t.user != null || t.password != null ? e(t.user || "") + (t.password != null ? ":" + MASK : "") + "@" : "";
  const host = t.socket ? e(t.host) : /:/.test(t.host) ? `[${t.host}]` : t.host || "";
  const q = ps.map(([k, v]) => e(k) + "=" + e(v).replace(/%2F/g, "/")).join("&");
  return `${t.scheme}${t.driver ? "+" + t.driver : ""}://${ui}${host}${t.port ? ":" + t.port : ""}` +
    (t.database ? "/" + e(t.database) : "") + (q ? "?" + q : "");
}

// --- facts (urlfacts.py, match_endpoint)
function matchEndpoint(engine, host, prt) {
  const list = Object.values(P), ok = (e, h) => e.engine === engine && (e.port == null || e.port === prt) &&
    (h == null || full(e.host_regex).test(h));
  if (host && host[0] !== "/") {
    const clean = host.replace(/\.+$/, "");
    for (const p of list) for (const e of p.generic ? [] : p.endpoints) if (ok(e, clean)) return [p.id, e, p.id];
    const owner = list.find(p => !p.generic && p.host_regex.some(rx => new RegExp(rx, "i").test(clean)));
    if (owner) return [owner.id, null, owner.id];
  }
  for (const p of list) for (const e of p.generic ? p.endpoints : []) if (ok(e, null)) return [p.id, e, null];
  return [];
}

function endpointFacts(t) {
  const host = t.socket ? null : t.host, [pid, e, owner] = matchEndpoint(t.engine, host, t.eport), p = P[pid];
  const f = { ...e, provider: pid, provider_name: p && p.name, generic: p && p.generic, host_provider: owner, endpoint_id: e && e.id };
  if (p) {
    f.other_endpoints = p.endpoints.filter(x => x.engine === t.engine);
    f.host_ports = f.other_endpoints.filter(x => x.port && host && full(x.host_regex).test(host.replace(/\.+$/, "")));
  }
  return f;
}

function urlFacts(t) {
  const params = dict(), all = allParams(t);
  for (const k in all) params[k] = SECRET.test(k) ? MASK : all[k];
  return { has_password: t.password != null, socket: t.socket, params,
           sslmode: (t.engine === "postgresql" ? t.params.sslmode : t.params["ssl-mode"]) || null,
           client_params: Object.keys(t.client), unknown_params: Object.keys(t.unknown).sort(), endpoint: endpointFacts(t) };
}

// --- checks (checks/url.py)
function loopback(h) {  // common.stays_local: no host, a socket, localhost or a loopback IP
  if (!h || h[0] === "/" || h === "localhost") return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (m) return m[1] === "127" && m.slice(1).every(o => o < 256 && !/^0\d/.test(o));
  try { return h.includes(":") && new URL(`http://[${h.replace(/%.*/, "")}]/`).hostname === "[::1]"; } catch (e) { return false; }
}
const isPrisma = (c, u) => c.orm ? c.orm === "prisma" : ["pgbouncer", "connection_limit", "pool_timeout"].some(p => u.client_params.includes(p));
const txnPooled = e => e.role === "pooled" && ["transaction", "statement"].includes(e.pool_mode);
const modeUnknown = e => e.role === "pooled" && e.pool_mode == null && e.pooler === "pgbouncer";
const nodeAliases = (c, u) => c.orm === "node-postgres" && String(u.params.uselibpqcompat).toLowerCase() !== "true";
const where = e => !e.label ? "this endpoint" : `the ${e.provider_name ? e.provider_name + " " : ""}endpoint "${e.label}"`;
function myMode(u) {
  const p = u.params, m = p["ssl-mode"], a = D.lint.sslaccept;
  return m ? [m, "ssl-mode=" + m] : has(a, p.sslaccept) ? [a[p.sslaccept], "sslaccept=" + p.sslaccept] : [null, "ssl-mode"];
}
const ANY_CERT = " encrypts but accepts any certificate", PS = " prepared statements";
const ALIAS = m => ["pass", `node-postgres reads sslmode=${m} as verify-full (a deprecated alias)`];

// (facts, context) -> [status, message] or null when the check does not apply, as in checks/url.py.
const RULES = {
  URL101(f, c) {
    const u = f.url, pg = f.engine === "postgresql";
    if (u.socket) return null;
    const [mode, spelt] = pg ? [u.sslmode, "sslmode=" + u.sslmode] : myMode(u);
    if (pg && nodeAliases(c, u)) {
      if (mode == null) return ["warn", "no sslmode: node-postgres uses no TLS unless the code asks"];
      if (mode === "prefer") return ALIAS(mode);
    }
    if (!(pg ? [null, "disable", "allow", "prefer"] : [null, "DISABLED", "PREFERRED"]).includes(mode)) return ["pass", spelt + " refuses plain text"];
    const why = (mode ? spelt : "no " + (pg ? "sslmode" : "ssl-mode")) + ": may fall back to plain text";
    if (loopback(c.target.host)) return ["warn", why + " (acceptable on this machine only)"];
    return [/^(disable|allow|DISABLED)$/.test(mode) ? "fail" : "warn", why];
  },
  URL102(f, c) {
    const u = f.url, p = u.params, mode = u.sslmode;
    if (u.socket) return null;
    if (f.engine === "mysql") {
      const [m, spelt] = myMode(u);
      return m === "REQUIRED" ? ["warn", spelt + ANY_CERT] : /^VERIFY_/.test(m) ? ["pass", spelt + " checks the certificate"] : null;
    }
    if (/^verify-/.test(mode)) return ["pass", `sslmode=${mode} checks the certificate`];
    if (mode !== "require") return null;
    if (p.sslrootcert) return ["pass", "sslmode=require with sslrootcert verifies the chain"];
    if (nodeAliases(c, u)) return ALIAS(mode);
    if (isPrisma(c, u) && p.sslaccept === "strict") return ["pass", "sslaccept=strict: Prisma checks the certificate"];
    return ["warn", "sslmode=require" + ANY_CERT];
  },
  URL201(f, c) {
    const u = f.url, e = u.endpoint, w = where(e), flag = String(u.params.pgbouncer).toLowerCase() === "true";
    if (!isPrisma(c, u)) return null;
    if (txnPooled(e)) {
      if (e.prepared_statements === false) return flag ? ["pass", "pgbouncer=true is set"] : ["fail", `${w} cannot keep${PS}: add pgbouncer=true`];
      if (e.prepared_statements) return flag ? ["warn", `${w} tracks${PS}: pgbouncer=true only costs speed`] : ["pass", `${w} tracks${PS}`];
      return flag ? ["pass", "pgbouncer=true is set"] : ["warn", `${w} may not track${PS}: add pgbouncer=true`];
    }
    if (modeUnknown(e) && !flag) return ["warn", `${w} may be in transaction mode: Prisma may need pgbouncer=true`];
    return flag && (e.role === "direct" || e.pool_mode === "session") ? ["warn", "pgbouncer=true is not needed here"] : null;
  },
  URL202(f, c) {
    const u = f.url, lim = has(u.params, "connection_limit") ? u.params.connection_limit : null;
    if (!c.serverless || !isPrisma(c, u)) return null;
    if (c.prisma_version >= 7) return lim != null ? ["warn", "Prisma 7 ignores connection_limit: set the adapter's max"]
      : ["pass", "Prisma 7: keep the driver adapter's max small (e.g. 1)"];
    if (lim == null) return ["warn", "no connection_limit: add connection_limit=1"];
    if (!digits(lim) || lim < 1) return ["fail", "connection_limit must be a whole number of at least 1"];
    return [lim > 1 ? "warn" : "pass", `connection_limit=${lim} per serverless instance`];
  },
  URL203(f) {
    const e = f.direct_url && f.direct_url.endpoint;
    if (!e) return null;
    if (txnPooled(e)) return ["fail", `the direct URL points at ${where(e)} (${e.pool_mode} pooling)`];
    if (modeUnknown(e)) return ["warn", `the direct URL points at ${where(e)}: fine only in session mode`];
    return ["pass", "the direct URL points at " + where(e)];
  },
  URL204(f, c) {
    const e = f.url.endpoint;
    if (f.direct_url || !(txnPooled(e) || modeUnknown(e)) || c.orm === "node-postgres") return null;  // no migrations
    return ["warn", `the URL goes through ${where(e)}: give migrations a direct URL`];
  },
  URL205(f, c) {
    const e = f.url.endpoint, ports = e.host_ports || [];
    if (e.endpoint_id || !ports.length || ports.some(x => x.port === c.target.eport)) return null;
    return ["warn", `${e.provider_name} serves ${ports.map(x => `${x.port} (${x.role})`).join(", ")} on this host, not ${c.target.eport}`];
  },
  URL206(f, c) {
    const e = f.url.endpoint, pooled = (e.other_endpoints || []).filter(x => x.role === "pooled");
    if (!c.serverless || e.role !== "direct" || !e.provider || e.generic || !pooled.length) return null;
    return ["fail", `${where(e)} is direct: use "${pooled[0].label}"`];
  },
  URL207: (f, c) => f.url.endpoint.ipv6_only ? [c.serverless ? "warn" : "pass", where(f.url.endpoint) + " is IPv6-only by default"] : null,
  URL208(f, c) {
    const e = f.url.endpoint;
    if (!e.user_regex) return null;
    return full(e.user_regex).test(c.target.user || "") ? ["pass", "the user name has the expected form"]
      : ["fail", `${where(e)} expects a user name matching ${e.user_regex}`];
  },
  URL209(f) {
    const p = P[f.url.endpoint.host_provider];
    return p && p.pitfalls.length ? ["pass", `known ${p.name} pitfalls: ${p.pitfalls.join("; ")}`] : null;
  },
  URL301: f => f.url.has_password ? ["warn", "passed as an argument, the password is visible to local processes"] : null,
  URL302(f, c) {
    const u = f.url, orm = c.orm, strict = D.lint.strict_clients.includes(orm);
    if (u.unknown_params.length) return ["warn", "unknown parameter(s): " + u.unknown_params.slice(0, 10).join(", ")];
    const found = D.lint.prisma_only.filter(p => u.client_params.includes(p)).join(", ");
    if (!orm || orm === "prisma" || f.engine !== "postgresql" || !found) return null;
    return [strict ? "fail" : "warn", `${found}: Prisma only; ${orm} ${strict ? "refuses to connect" : "ignores it"}`];
  }
};

/** `advisor lint` in the browser: {url, direct_url, orm, serverless, prisma_version} -> report | {error}. */
function advisorCheck(input) {
  let t, d;
  try {
    t = parse(input.url);
    d = input.direct_url && parse(input.direct_url);
  } catch (e) {
    if (e.invalidUrl) return { error: e.message };
    throw e;
  }
  const ctx = { target: t, orm: input.orm && input.orm !== "none" ? input.orm : null,
                serverless: input.serverless !== false, prisma_version: parseInt(input.prisma_version, 10) || null };
  const facts = { engine: t.engine, url: urlFacts(t), direct_url: d && urlFacts(d) }, findings = [];
  for (const k of D.checks) {
    const r = k.kind === "lint" && [t.engine, "any"].includes(k.engine) && RULES[k.id] && RULES[k.id](facts, ctx);
    if (r) findings.push({ id: k.id, title: k.title, status: r[0], message: r[1], docs_url: SITE + k.docs });
  }
  return { url: display(t), direct_url: d && display(d), facts, findings, exit: +findings.some(x => x.status === "fail") };
}

// --- DOM
const $ = id => document.getElementById(id), val = id => $(id).value;
function el(tag, attrs, kids) {
  const n = document.createElement(tag);
  for (const k in attrs) if (attrs[k] != null) n.setAttribute(k, attrs[k]);
  n.append(...[].concat(kids).filter(x => x != null));
  return n;
}
const table = (caption, rows, head) => el("table", {}, [el("caption", {}, caption),
  head && el("thead", {}, el("tr", {}, head.map(h => el("th", { scope: "col" }, h)))), el("tbody", {}, rows)]);
const say = (out, cls, text) => out.append(el("p", { class: "adv-" + cls, "data-k": cls === "error" ? cls : "verdict" }, text));

// --- URL checker
function endpointRows(prefix, e, shown) {
  const pr = P[e.provider];
  return [["URL", el("code", {}, shown)],
    ["Provider", pr ? [el("code", {}, pr.id), ` ${pr.name} `, el("a", { href: SITE + pr.docs_page + "/" }, "(provider page)")] : "unknown"],
    ["Endpoint", e.label], ["Role", e.role], ["Pooler", e.pooler], ["Pool mode", e.pool_mode]
  ].map(([h, v]) => el("tr", {}, [el("th", { scope: "row" }, h), el("td", { "data-k": prefix + h.toLowerCase().replace(" ", "_") }, v || "—")]));
}

function runChecker(ev) {
  ev && ev.preventDefault();
  const out = $("uc-result");
  out.textContent = "";
  const r = advisorCheck({ url: val("uc-url"), direct_url: val("uc-direct").trim(), orm: val("uc-orm"),
    serverless: $("uc-serverless").checked, prisma_version: val("uc-prisma") });
  if (r.error) return say(out, "error", "Invalid URL: " + r.error);
  const rows = endpointRows("", r.facts.url.endpoint, r.url), n = { pass: 0, warn: 0, fail: 0 };
  if (r.direct_url) rows.push(el("tr", {}, el("th", { colspan: 2, scope: "rowgroup" }, "Direct (migration) URL")),
    ...endpointRows("direct_", r.facts.direct_url.endpoint, r.direct_url));
  r.findings.forEach(x => n[x.status]++);
  out.append(table("What the URL points at", rows));
  say(out, n.fail ? "fail" : n.warn ? "warn" : "pass",
    `${n.fail ? "Fails" : "Passes"}: ${n.fail} fail, ${n.warn} warn, ${n.pass} pass (advisor lint would exit ${r.exit}).`);
  out.append(table("Findings", r.findings.map(x => el("tr", { "data-id": x.id }, [el("td", {}, el("a", { href: x.docs_url }, x.id)),
    el("td", {}, x.title), el("td", { "data-k": "status", class: "adv-" + x.status }, [el("span", { "aria-hidden": "true" }, { pass: "✔ ", warn: "⚠ ", fail: "✖ " }[x.status]), x.status]),
    el("td", {}, x.message)])), ["Check", "Title", "Status", "Finding"]));
}

// --- config generator
function pick(p, role) {
  const key = e => role === "pooled" ? e.pool_mode !== "transaction" : !e.for_migrations;
  return p.endpoints.filter(e => e.role === role && e.engine === "postgresql").sort((a, b) => key(a) - key(b))[0];
}

/** provider x ORM x platform {serverless, note} x Prisma major -> {blocks: [[title, code]], notes}. */
function generate(pid, orm, platform, prisma) {
  const p = P[pid], sl = platform.serverless, pooled = pick(p, "pooled"), direct = pick(p, "direct") || {};
  const entry = p.orm[orm] || {}, params = Object.assign({}, entry.pooled_params), notes = [platform.note], blocks = [];
  const noPrep = !!pooled && pooled.pool_mode === "transaction" && pooled.prepared_statements !== true;
  const url = (pooled || direct).example_url || "postgresql://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full";
  const max = sl ? 1 : 10, add = (title, code) => blocks.push([title, code]), py = noPrep ? '"prepare_threshold": None' : "";
  const migrate = cmd => add("migrate", `DATABASE_URL="$DIRECT_URL" ${cmd}`);
  if (!pooled) notes.push(`No pooler for ${p.name} in the catalog: each instance holds its own connections.`);
  if (orm === "prisma") {
    if (noPrep && !Object.keys(params).length) params.pgbouncer = "true";
    if (prisma < 7) {
      if (sl) params.connection_limit = 1;
      add("schema.prisma (Prisma 6)", 'datasource db {\n  provider  = "postgresql"\n  url       = env("DATABASE_URL")\n  directUrl = env("DIRECT_URL")\n}');
    } else {
      add("prisma.config.ts (Prisma 7)", 'import { defineConfig, env } from "prisma/config";\n\nexport default defineConfig({ datasource: { url: env("DIRECT_URL") } });');
      add("db.ts", `import { PrismaClient } from "./generated/prisma/client";\nimport { PrismaPg } from "@prisma/adapter-pg";\n\nconst adapter = new PrismaPg({ connectionString: process.env.DATABASE_URL, max: ${max} });\nexport const prisma = new PrismaClient({ adapter });`);
      notes.push("Prisma 7: the CLI takes the direct URL from prisma.config.ts; the adapter sizes the pool.");
    }
  } else if (orm === "drizzle") {
    add("db.ts", `import postgres from "postgres";\nimport { drizzle } from "drizzle-orm/postgres-js";\n\nexport const db = drizzle(postgres(process.env.DATABASE_URL!, { ${noPrep ? "prepare: false, " : ""}max: ${max} }));`);
    add("drizzle.config.ts", 'import { defineConfig } from "drizzle-kit";\n\nexport default defineConfig({\n  dialect: "postgresql",\n  dbCredentials: { url: process.env.DIRECT_URL! },\n});');
  } else if (orm === "node-postgres") {
    add("db.js", `import pg from "pg";\n\nexport const pool = new pg.Pool({\n  connectionString: process.env.DATABASE_URL,\n  max: ${max},\n  idleTimeoutMillis: ${sl ? 5000 : 30000},\n});`);
    if (noPrep) notes.push("Do not name queries here: named queries become prepared statements.");
  } else if (orm === "django") {
    add("settings.py", `import dj_database_url\n\nDATABASES = {"default": {\n    **dj_database_url.config(),  # reads DATABASE_URL\n    "CONN_MAX_AGE": ${sl ? 0 : 60},\n    "DISABLE_SERVER_SIDE_CURSORS": True,${py && `\n    "OPTIONS": {${py}},`}\n}}`);
    migrate("python manage.py migrate");
  } else if (orm === "sqlalchemy") {
    const np = sl || !!pooled;
    add("db.py", `import os\nfrom sqlalchemy import create_engine${np ? "\nfrom sqlalchemy.pool import NullPool" : ""}\n\nurl = "postgresql+psycopg://" + os.environ["DATABASE_URL"].split("://", 1)[1]\nengine = create_engine(url, ${np ? "poolclass=NullPool" : "pool_size=5, max_overflow=0"}${py && `, connect_args={${py}}`})`);
    notes.push("Run Alembic with DIRECT_URL.");
  } else {
    add("config/database.yml", `production:\n  url: <%= ENV["DATABASE_URL"] %>\n  pool: ${sl ? 1 : 5}\n  prepared_statements: false\n  advisory_locks: false`);
    migrate("bin/rails db:migrate");
  }
  if (entry.note) notes.push(entry.note);
  const qs = Object.entries(params).map(x => x.join("=")).join("&");
  const env = `DATABASE_URL="${url}${qs ? (url.includes("?") ? "&" : "?") + qs : ""}"` +
    (orm === "node-postgres" ? "" : `\nDIRECT_URL="${direct.example_url || url}"`);
  return { blocks: [["Environment variables", env], ...blocks], notes };
}

function copyButton(code) {
  const b = el("button", { type: "button", class: "adv-copy" }, "Copy");
  const done = msg => { b.textContent = msg; setTimeout(() => { b.textContent = "Copy"; }, 2000); };
  const select = () => { getSelection().selectAllChildren(code); done("Selected: press Ctrl+C"); };
  b.onclick = () => navigator.clipboard ? navigator.clipboard.writeText(code.textContent).then(() => done("Copied"), select) : select();
  return b;
}

function runGenerator(ev) {
  ev && ev.preventDefault();
  const orm = val("cg-orm"), out = $("cg-result"), opt = $("cg-platform").selectedOptions[0].dataset;
  const g = generate(val("cg-provider"), orm, { serverless: opt.serverless === "yes", note: opt.note }, +val("cg-prisma"));
  $("cg-prisma-field").hidden = orm !== "prisma";
  out.textContent = "";
  for (const [title, text] of g.blocks) {
    const code = el("code", {}, text);
    out.append(el("div", { class: "adv-block" }, [el("strong", {}, title), " ", copyButton(code), el("pre", {}, code)]));
  }
  out.append(el("ul", {}, g.notes.map(n => el("li", {}, n))));
}

// --- capacity (PG207's arithmetic, PG101's thresholds)
function runCapacity(ev) {
  ev && ev.preventDefault();
  const out = $("cc-result"), pooler = $("cc-pooler").checked, th = CHK.PG101.params, lines = [];
  const [max, reserved, inUse = 0, instances, size, dps, mcc] = ["max", "reserved", "inuse", "instances", "pool", "dps", "mcc"]
    .map(id => val("cc-" + id).trim() === "" ? undefined : Number(val("cc-" + id)));
  $("cc-pooler-fields").hidden = !pooler;
  out.textContent = "";
  if (![max, reserved, inUse, instances - 1, size - 1].every(x => Number.isInteger(x) && x >= 0))
    return say(out, "error", "Enter whole numbers (instances and pool size at least 1).");
  const usable = max - reserved, free = usable - inUse, clients = instances * size;
  const keep = Math.max(th.fail_below_slots, Math.ceil(usable * th.warn_below_percent / 100)), rec = Math.max(1, free - keep);
  lines.push(`usable = max_connections − reserved = ${max} − ${reserved} = ${usable}`,
    `free = usable − in use = ${usable} − ${inUse} = ${free}`,
    `client connections = instances × pool size = ${instances} × ${size} = ${clients}`);
  let fits = free > 0, server = clients, status = "fail";
  if (!fits) lines.push("no slot is free for applications");
  else if (!pooler) {
    fits = clients <= free;
    lines.push(fits ? `${clients} ≤ ${free}: fits without a pooler`
      : `${clients} > ${free}: put a pooler in front or cut the pool to ${Math.max(1, Math.floor(free / instances))} per instance`);
  } else {
    server = dps || rec;
    fits = !(mcc && clients > mcc) && server <= free;
    lines.push(!mcc ? `max_client_conn not given: it must be at least ${clients}` : clients <= mcc
      ? `${clients} ≤ max_client_conn ${mcc}: the pooler accepts every client` : `${clients} > max_client_conn ${mcc}: raise it to at least ${clients}`,
      `server connections = default_pool_size = ${server}${dps ? "" : " (suggested)"}` +
      (server <= free ? ` ≤ ${free} free` : ` > ${free} free: lower it to at most ${rec}`));
  }
  if (free > 0) {
    const left = Math.max(0, free - server), pct = 100 * left / usable;
    status = left < th.fail_below_slots || pct < th.fail_below_percent ? "fail" : pct < th.warn_below_percent ? "warn" : "pass";
    lines.push(`headroom after the load: ${left} of ${usable} usable slots stay free (${Math.round(pct)} %, PG101 ${status})`);
  }
  say(out, fits ? status : "fail", !fits ? "Does not fit." : status === "pass" ? "Fits." : `Fits, but leaves little headroom (PG101 ${status}).`);
  out.append(el("ol", { "data-k": "math" }, lines.map(l => el("li", {}, l))),
    el("p", {}, [el("strong", {}, "Pooler sizes to use: "),
      `max_client_conn ≥ ${clients}, default_pool_size ≤ ${rec} (leaves ${keep} slots free, PG101's warning line)`]));
}

// --- wiring
const TOOLS = [["uc-form", runChecker], ["cg-form", runGenerator], ["cc-form", runCapacity]].filter(([id]) => $(id));
if (!TOOLS.length) return;
fetch(SITE + "assets/advisor-data.json").then(r => {
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r.json();
}).then(data => {
  D = data; G = data.grammar; SECRET = new RegExp(G.secret_key, "i");
  data.providers.forEach(p => { P[p.id] = p; });
  data.checks.forEach(c => { CHK[c.id] = c; });
  const sel = $("cg-provider");
  if (sel) data.providers.forEach(p => p.engines.includes("postgresql") && sel.append(el("option", { value: p.id }, p.name)));
  for (const [id, run] of TOOLS) {
    const f = $(id);
    for (const type of ["submit", "change", "input"].slice(0, id === "uc-form" ? 2 : 3)) f.addEventListener(type, run);
    f.querySelector("[data-status]").textContent = "";
    f.setAttribute("data-ready", "");
    if (id !== "uc-form") run();
  }
  window.advisorCheck = advisorCheck;
}).catch(e => TOOLS.forEach(([id]) => {
  $(id).querySelector("[data-status]").textContent = `Could not load the catalog (${e.message}); reload the page.`;
}));
})();
