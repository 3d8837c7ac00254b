// The wallboard page: connects to the gateway's WebSocket, keeps the last sequence number,
// resumes after a disconnect, renders with Board (textContent only), acknowledges one-click
// commands and, for the roles that may, issues them (POST {dispatch}/v1/one-click with the
// page's bearer token; the dispatch URL and the city's time zone come from /config.json).
// Token and hub come from the URL (?token=…&hub=township:T01) once, then from
// sessionStorage; the token is removed from the address bar immediately.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || localStorage.getItem("wb.lang") || "zh";
  let token = params.get("token") || sessionStorage.getItem("wb.token") || "";
  let hub = parseHub(params.get("hub") || sessionStorage.getItem("wb.hub") || "city");
  let ws = null, seq = null, retry = 0, dirty = false, popupFor = null;
  let config = { dispatch_url: "", dispatch_port: 8082, timezone: "Asia/Shanghai" };
  const ISSUERS = ["city_operator", "township_hub"];  // who may POST /v1/one-click
  const B = window.Board;
  const t = (k) => (window.I18N[lang] && window.I18N[lang][k]) || window.I18N.zh[k] || k;
  B.setT(t);

  if (params.has("token")) { params.delete("token"); history.replaceState(null, "", `${location.pathname}?${params}`); }
  if (token) sessionStorage.setItem("wb.token", token);

  function parseHub(text) {
    const [kind, code] = String(text).split(":");
    return ["township", "village", "department"].includes(kind) && code ? { kind, code } : { kind: "city", code: "" };
  }
  const hubParam = (h) => (h.kind === "city" ? "city" : `${h.kind}:${h.code}`);

  function setLang(next) {
    lang = next; localStorage.setItem("wb.lang", lang);
    document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    document.getElementById("lang").textContent = lang === "en" ? "中文" : "EN";
    renderAll();
  }

  function setStatus(state) {
    const box = document.getElementById("status");
    box.className = `status ${state}`;
    const text = document.getElementById("status-text");
    text.dataset.i18n = state; text.textContent = t(state);  // setLang re-labels it, not resets it
    box.dataset.state = state;
  }

  function connect() {
    if (!token) { document.getElementById("login").classList.remove("hidden"); return; }
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    ws = new WebSocket(url);
    const mine = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", token, hub, last_seq: seq, lang }));
    ws.onmessage = (ev) => { if (mine === ws) onFrame(JSON.parse(ev.data)); };
    ws.onclose = () => {
      if (mine !== ws) return;
      setStatus("offline");
      setTimeout(connect, Math.min(5000, 300 * 2 ** retry++));
    };
  }

  function newer(s) {
    if (!seq || !s) return true;
    const [a, b] = seq.split("-").map(Number), [c, d] = s.split("-").map(Number);
    return c > a || (c === a && d > b);
  }

  function onFrame(f) {
    if (f.type === "snapshot") {
      retry = 0; seq = f.seq; B.reset(f); setStatus("live"); renderAll();
      document.body.dataset.hub = hubParam(f.hub); document.body.dataset.ready = "1";
    } else if (f.type === "delta") {
      if (newer(f.seq)) { B.apply(f.delta); seq = f.seq; schedule(); }
    } else if (f.type === "deltas") {
      for (const item of f.items) if (newer(item.seq)) B.apply(item.delta);
      if (f.seq && newer(f.seq)) seq = f.seq;
      schedule();
    } else if (f.type === "summary") {
      B.summary(f); schedule();
    } else if (f.type === "ack_result") {
      if (!f.ok) showBanner(f.error || "ack failed");
    } else if (f.type === "error") {
      if (f.code === "unauthorized" || f.code === "forbidden") {
        showBanner(t(f.code));
        if (f.code === "unauthorized") { sessionStorage.removeItem("wb.token"); token = ""; }
      }
    }
  }

  function schedule() { if (!dirty) { dirty = true; requestAnimationFrame(() => { dirty = false; renderAll(); }); } }

  function renderAll() {
    if (!B.S.hub) return;
    renderCrumbs();
    B.renderKpis(); B.renderFeed(); B.renderWarnings(); B.renderCommands(ack);
    B.renderTiles(drill); B.renderRanking();
    window.Charts.update(B.S.trend, t);
    renderPopup(); renderIssueButton();
    if (B.S.calendar) showBanner(`${t("calendar_fallback")} ${B.S.calendar.year || ""}`);
  }

  function renderCrumbs() {
    const nav = document.getElementById("crumbs"), h = B.S.hub, parts = [];
    const link = (label, target) => {
      const a = B.el("button", "crumb", label); a.type = "button";
      a.addEventListener("click", () => drill(target.kind, target.code)); return a;
    };
    const cityWide = B.S.principal && ["city_operator", "supervisor", "leader", "auditor"].includes(B.S.principal.role);
    const cityName = lang === "en" ? h.city_en : h.city_zh;
    parts.push(cityWide && h.kind !== "city" ? link(cityName, { kind: "city", code: "" }) : B.el("span", "crumb here", cityName));
    if (h.parent) parts.push(B.el("span", "sep", "›"), link(B.name(h.parent), h.parent));
    if (h.kind !== "city") parts.push(B.el("span", "sep", "›"), B.el("span", "crumb here", B.name(h)));
    nav.replaceChildren(...parts);
    document.title = `${B.name(h)} · ${t("title")}`;
  }

  function drill(kind, code, push = true) {
    hub = { kind, code: kind === "city" ? "" : code };
    sessionStorage.setItem("wb.hub", hubParam(hub));
    params.set("hub", hubParam(hub));
    if (push) history.pushState(null, "", `${location.pathname}?${params}`);
    seq = null; popupFor = null;
    if (ws) { const old = ws; ws = null; old.close(); }
    connect();
  }

  function ack(commandId) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ack", command_id: commandId }));
  }

  function renderPopup() {
    const box = document.getElementById("popup"), h = B.S.hub;
    if (!h || h.kind === "city") { box.classList.add("hidden"); return; }
    const mine = `${h.kind}:${h.code}`;
    const open = [...B.S.commands.values()].find((c) => c.text && (c.targets || []).some((tg) => `${tg.kind}:${tg.code}` === mine) && !(c.acks || {})[mine]);
    if (!open) { box.classList.add("hidden"); popupFor = null; return; }
    popupFor = open.command_id; box.dataset.commandId = open.command_id;
    document.getElementById("popup-text").textContent = open.text;
    document.getElementById("popup-meta").textContent = `${t("issued_by")} ${B.issuer(open)} · ${t("due")} ${open.ack_due_at ? B.cityTime(open.ack_due_at).slice(0, 5) : "—"}`;
    box.classList.remove("hidden");
  }

  function showBanner(text) {
    const b = document.getElementById("banner"); b.textContent = text; b.classList.remove("hidden");
  }

  // --- issuing a one-click command (一键式指挥) ------------------------------------------

  function issueTargets() {  // what this board's operator may command: its child hubs, departments
    const p = B.S.principal, h = B.S.hub;
    if (!p || !h || !ISSUERS.includes(p.role)) return [];
    if (p.role === "township_hub" && h.kind !== "township") return [];  // only to its own villages
    const childKind = h.kind === "city" ? "township" : "village";  // a village board shows grids
    const units = B.S.units.filter((u) => u.kind === childKind);
    return p.role === "city_operator" ? units.concat(h.departments || []) : units;
  }

  function renderIssueButton() {
    document.getElementById("issue-open").classList.toggle("hidden", issueTargets().length === 0);
  }

  function targetGroup(kind, units) {
    const box = B.el("div", "tgroup"), head = B.el("div", "tgroup-head");
    const all = B.el("button", "ghost-btn small", t("select_all")); all.type = "button";
    all.addEventListener("click", () => { for (const c of box.querySelectorAll("input")) c.checked = true; });
    head.append(B.el("span", "tgroup-name", t(`group_${kind}`)), all);
    const chips = B.el("div", "tchips");
    for (const u of units) {
      const label = B.el("label", "tchip"), check = B.el("input");
      check.type = "checkbox"; check.value = `${u.kind}:${u.code}`;
      label.append(check, B.el("span", "", B.name(u)));
      chips.append(label);
    }
    box.append(head, chips);
    return box;
  }

  function openIssue() {
    const groups = new Map();
    for (const u of issueTargets()) groups.set(u.kind, (groups.get(u.kind) || []).concat(u));
    document.getElementById("issue-targets").replaceChildren(...[...groups].map(([kind, units]) => targetGroup(kind, units)));
    showIssueError(null);
    document.getElementById("issue").classList.remove("hidden");
    document.getElementById("issue-text").focus();
  }

  function closeIssue() {
    document.getElementById("issue").classList.add("hidden");
    document.getElementById("issue-form").reset();
    showIssueError(null);
  }

  const FIELD_LABELS = { text: "issue_text", targets: "group_targets", ack_within_minutes: "issue_within" };

  function errorText(err) {  // dispatch's message (it names the field), after the field's label
    const field = err.field || "", label = FIELD_LABELS[field.split(".")[0]];
    const message = field && !String(err.message).startsWith(field) ? `${field}: ${err.message}` : String(err.message);
    return label ? `${t(label)} · ${message}` : message;
  }

  function showIssueError(err) {  // err: dispatch's {code, message, field}, or null to clear
    const box = document.getElementById("issue-error");
    box.textContent = err ? errorText(err) : "";
    box.dataset.field = err && err.field ? err.field : "";
    box.classList.toggle("hidden", !err);
    const field = (err && err.field) || "";
    document.getElementById("issue-text").toggleAttribute("aria-invalid", field.startsWith("text"));
    document.getElementById("issue-targets").classList.toggle("invalid", field.startsWith("targets"));
    document.getElementById("issue-within").toggleAttribute("aria-invalid", field.startsWith("ack_"));
  }

  function dispatchBase() {
    return config.dispatch_url || `${location.protocol}//${location.hostname}:${config.dispatch_port}`;
  }

  async function sendIssue(ev) {
    ev.preventDefault();
    const form = document.getElementById("issue-form"), send = document.getElementById("issue-send");
    const targets = [...form.querySelectorAll("#issue-targets input:checked")].map((c) => {
      const [kind, code] = c.value.split(":"); return { kind, code };
    });
    const body = { text: document.getElementById("issue-text").value, targets };
    const within = document.getElementById("issue-within").value;  // "" when not a number
    if (within !== "") body.ack_within_minutes = Number(within);
    send.disabled = true;
    try {
      const r = await fetch(`${dispatchBase()}/v1/one-click`, {
        method: "POST", body: JSON.stringify(body), credentials: "omit",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      });
      if (r.ok) { closeIssue(); return; }
      const doc = await r.json().catch(() => null);
      showIssueError((doc && doc.error) || { message: `HTTP ${r.status}` });
    } catch (e) {
      showIssueError({ message: `${t("issue_unreachable")} (${dispatchBase()})` });
    } finally {
      send.disabled = false;
    }
  }

  async function loadConfig() {
    try {
      const r = await fetch("/config.json", { cache: "no-store" });
      if (r.ok) config = { ...config, ...(await r.json()) };
    } catch (e) { /* the defaults: dispatch on this host, the city's zone */ }
    B.setZone(config.timezone);
  }

  function tickClock() {
    const clock = document.getElementById("clock");
    clock.textContent = B.cityTime(new Date()); clock.dataset.tz = config.timezone;
    B.tick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.Charts.init();
    document.getElementById("lang").addEventListener("click", () => setLang(lang === "en" ? "zh" : "en"));
    document.getElementById("popup-ack").addEventListener("click", () => popupFor && ack(popupFor));
    document.getElementById("issue-open").addEventListener("click", openIssue);
    document.getElementById("issue-cancel").addEventListener("click", closeIssue);
    document.getElementById("issue-form").addEventListener("submit", sendIssue);
    document.getElementById("login-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      token = document.getElementById("login-token").value.trim();
      sessionStorage.setItem("wb.token", token);
      document.getElementById("login").classList.add("hidden");
      connect();
    });
    window.addEventListener("popstate", () => {
      const back = parseHub(new URLSearchParams(location.search).get("hub") || "city");
      drill(back.kind, back.code, false);
    });
    loadConfig();  // in parallel: the defaults serve until it answers
    tickClock();
    setInterval(tickClock, 1000);
    setInterval(() => { if (B.S.hub) B.renderCommands(ack); }, 5000); // "late" appears on time
    setLang(lang);
    connect();
  });
})();
