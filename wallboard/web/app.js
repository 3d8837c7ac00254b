// The wallboard page: connects to the gateway's WebSocket, keeps the last sequence number,
// resumes after a disconnect, renders with Board (textContent only), and acknowledges
// one-click commands. Token and hub come from the URL (?token=…&hub=township:T01) once, then
// from sessionStorage; the token is removed from the address bar immediately.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || localStorage.getItem("wb.lang") || "zh";
  let token = params.get("token") || sessionStorage.getItem("wb.token") || "";
  let hub = parseHub(params.get("hub") || sessionStorage.getItem("wb.hub") || "city");
  let ws = null, seq = null, retry = 0, dirty = false, popupFor = null;
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
    document.getElementById("status-text").textContent = t(state);
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
    renderPopup();
    if (B.S.calendar) showBanner(t("level_calendar") + " · " + (B.S.calendar.message || B.S.calendar.year || ""));
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
    document.getElementById("popup-meta").textContent = `${t("issued_by")} ${B.issuer(open)} · ${t("due")} ${open.ack_due_at ? new Date(open.ack_due_at).toTimeString().slice(0, 5) : "—"}`;
    box.classList.remove("hidden");
  }

  function showBanner(text) {
    const b = document.getElementById("banner"); b.textContent = text; b.classList.remove("hidden");
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.Charts.init();
    document.getElementById("lang").addEventListener("click", () => setLang(lang === "en" ? "zh" : "en"));
    document.getElementById("popup-ack").addEventListener("click", () => popupFor && ack(popupFor));
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
    setInterval(() => {
      document.getElementById("clock").textContent = new Date().toLocaleTimeString(lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
      B.tick();
    }, 1000);
    setInterval(() => { if (B.S.hub) B.renderCommands(ack); }, 5000); // "late" appears on time
    setLang(lang);
    connect();
  });
})();
