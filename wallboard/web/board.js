// The board's state and its rendering. Every piece of data reaches the DOM through
// textContent (the el() helper): citizen text is rendered as text, never as HTML.
"use strict";

window.Board = (() => {
  const OPEN = new Set(["accepted", "assigned", "signed_for", "in_progress"]);
  const LEVEL_ORDER = { escalated: 0, red: 1, yellow: 2, grid_alert: 3 };
  const S = { hub: null, principal: null, matters: new Map(), feed: [], alerts: new Map(),
              commands: new Map(), kpis: {}, units: [], ranking: {}, trend: null, calendar: null };
  let t = (k) => k;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  const name = (o) => (o ? (document.documentElement.lang === "en" ? o.name_en || o.name_zh : o.name_zh) : "");

  // Times are shown on the city's clock (Asia/Shanghai), whatever zone the screen is set to.
  let zone = "Asia/Shanghai";
  let clockFmt = null;
  function setZone(tz) { if (tz && tz !== zone) { zone = tz; clockFmt = null; } }
  function cityTime(when) {
    const d = when instanceof Date ? when : new Date(when);
    if (isNaN(d)) return "";
    clockFmt = clockFmt || new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    return clockFmt.format(d);
  }
  const hhmm = (iso) => cityTime(iso);

  const pad = (n) => String(n).padStart(2, "0");
  function countdown(iso) {
    const ms = new Date(iso) - Date.now();
    if (isNaN(ms)) return { text: "", over: false };
    const s = Math.floor(Math.abs(ms) / 1000), days = Math.floor(s / 86400);
    const hms = `${days ? `${days}${t("days")} ` : ""}${Math.floor(s / 3600) % 24}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
    return { text: `${ms < 0 ? t("over") : t("left")} ${hms}`, over: ms < 0 };
  }

  const issuer = (c) => (c.issued_by && typeof c.issued_by === "object" ? c.issued_by.user || "" : c.issued_by || "");

  function reset(snap) {
    S.hub = snap.hub; S.principal = snap.principal;
    S.matters = new Map(snap.matters.map((m) => [m.id, m]));
    S.feed = snap.matters.slice().sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1)).slice(0, 40)
      .map((m) => ({ id: m.id, fresh: false, at: m.updated_at }));
    S.alerts = new Map(snap.warnings.map((a) => [a.id, a]));
    S.commands = new Map(snap.commands.map((c) => [c.command_id, c]));
    summary(snap);
  }
  function summary(s) { S.kpis = s.kpis || S.kpis; S.units = s.units || S.units; S.ranking = s.ranking || S.ranking; S.trend = s.trend || S.trend; }

  function apply(delta) {
    if (delta.kind === "matter" && delta.matter) {
      const m = delta.matter, old = S.matters.get(m.id);
      if (old && old.version > m.version) return;
      S.matters.set(m.id, m);
      const prev = S.feed.find((f) => f.id === m.id);
      S.feed = S.feed.filter((f) => f.id !== m.id);
      S.feed.unshift({ id: m.id, fresh: !old || Boolean(prev && prev.fresh), at: m.updated_at, flash: true });
      S.feed.length = Math.min(S.feed.length, 40);
      if (!OPEN.has(m.state)) for (const [id, a] of S.alerts) if (a.matter_id === m.id) S.alerts.delete(id);
    } else if (delta.kind === "alert" && delta.alert) {
      S.alerts.set(delta.alert.id, delta.alert);
    } else if (delta.kind === "command" && delta.data) {
      const old = S.commands.get(delta.data.command_id) || { acks: {} };
      S.commands.set(delta.data.command_id, { ...delta.data, acks: old.acks || {} });
    } else if (delta.kind === "command_ack" && delta.data) {
      const d = delta.data, c = S.commands.get(d.command_id) || { command_id: d.command_id, acks: {}, targets: [] };
      c.acks = { ...(c.acks || {}), [`${d.target.kind}:${d.target.code}`]: { user: d.user, acked_at: d.acked_at } };
      S.commands.set(d.command_id, c);
    } else if (delta.kind === "calendar") {
      S.calendar = delta.data || {};
    }
  }

  function renderKpis() {
    for (const card of document.querySelectorAll(".kpi")) {
      const v = S.kpis[card.dataset.kpi];
      const out = card.classList.contains("kpi-rate") ? (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`) : (v ?? 0);
      const node = card.querySelector(".kpi-value");
      if (node.textContent !== String(out)) { node.textContent = out; card.classList.remove("bump"); void card.offsetWidth; card.classList.add("bump"); }
    }
  }

  function renderFeed() {
    const list = document.getElementById("feed");
    const items = [];
    for (const f of S.feed) {
      const m = S.matters.get(f.id); if (!m) continue;
      const li = el("li", `item lvl-${m.warning_level || "none"}${f.flash ? " flash" : ""}`);
      li.dataset.matterId = m.id;
      const head = el("div", "item-head");
      head.append(el("span", `tag ${f.fresh ? "tag-new" : "tag-upd"}`, f.fresh ? t("new") : t("changed")),
        el("span", "time", hhmm(m.updated_at)), el("span", "where", m.village || m.township),
        el("span", `state st-${m.state}`, t(`state_${m.state}`)));
      li.append(head, el("div", "desc", m.description), el("div", "meta", `${m.category} · ${m.id}`));
      f.flash = false;
      items.push(li);
    }
    list.replaceChildren(...items);
    if (!items.length) list.replaceChildren(el("li", "empty", t("no_items")));
    document.getElementById("open-count").textContent = `${[...S.matters.values()].filter((m) => OPEN.has(m.state)).length} ${t("open")}`;
  }

  // --- warnings: one row per warned matter (its worst deadline), plus alerts whose matter
  // this board does not hold. Each row counts down to the matter's own deadline.
  const RANK = { none: 0, yellow: 1, red: 2, escalated: 3 };

  function worstDeadline(m) {
    let best = null;
    for (const [kind, d] of Object.entries(m.deadlines || {})) {
      const rank = RANK[d.level] || 0;
      if (!best || rank > best.rank || (rank === best.rank && String(d.due_at) < String(best.due))) best = { kind, due: d.due_at, rank };
    }
    return best || { kind: "resolve", due: null, rank: 0 };
  }

  function alertKind(a) {  // the deadline kind of a warning id "<matter>:<kind>:<generation>:<level>"
    const parts = String(a.id || "").split(":");
    if (parts.length >= 4 && /^\d+$/.test(parts[parts.length - 2])) return parts.slice(1, -2).join(":");
    return a.kind === "report_in" && a.department ? `report_in:${a.department}` : a.kind;
  }

  function alertDeadline(a, kind, m) {
    const d = m && m.deadlines && m.deadlines[kind];
    if (d && d.due_at) return d.due_at;
    if (a.deadline) return a.deadline;  // from the snapshot
    if (a.level === "red") return a.due_at;  // red fires at the deadline
    if (a.kind === "near_deadline" && m) return worstDeadline(m).due;
    return null;
  }

  function matterRow(m) {
    const w = worstDeadline(m);
    return { key: `m:${m.id}`, level: m.warning_level, kind: w.kind, title: m.description,
             where: m.village || m.township, due: w.due, id: m.id };
  }

  function alertRow(a) {
    const level = a.level === "escalate" ? "escalated" : a.level, m = S.matters.get(a.matter_id), kind = alertKind(a);
    const title = m ? m.description : level === "calendar" ? `${t("calendar_fallback")} ${String(a.due_at || "").slice(0, 4)}`
      : `${t("matter")} ${a.matter_id}${a.target ? ` → ${targetLabel(a.target)}` : ""}`;
    return { key: `a:${a.id}`, level, kind, step: a.step, title, id: a.matter_id,
             where: a.village || a.township || a.department || "", due: level === "calendar" ? null : alertDeadline(a, kind, m),
             firedAt: a.fired_at };
  }

  function warningRows() {
    const rows = [];
    for (const m of S.matters.values()) {
      if (OPEN.has(m.state) && m.warning_level && m.warning_level !== "none") rows.push(matterRow(m));
    }
    const seen = new Set(rows.map((r) => r.id));
    for (const a of S.alerts.values()) if (!seen.has(a.matter_id) || a.level === "grid_alert") rows.push(alertRow(a));
    return rows.sort((a, b) => (LEVEL_ORDER[a.level] ?? 9) - (LEVEL_ORDER[b.level] ?? 9) || String(a.due).localeCompare(String(b.due)));
  }

  function kindLabel(kind) {
    const [base, dept] = String(kind || "").split(":");
    const label = t(`wkind_${base}`);
    if (label === `wkind_${base}`) return "";  // an unknown kind: no internal name on screen
    const d = dept && departmentName(dept);
    return d ? `${label} · ${d}` : label;
  }

  function targetLabel(target) {
    const [base, code] = String(target || "").split(":");
    const label = t(`target_${base}`);
    if (label !== `target_${base}`) return code ? `${label} ${code}` : label;
    return departmentName(base) || "";
  }

  function unitName(u) {  // a command target's name from what the board knows, else its code
    const known = [S.hub].concat(S.units, (S.hub && S.hub.departments) || []).find((x) => x && x.kind === u.kind && x.code === u.code);
    return known ? name(known) : u.name_zh ? name(u) : u.code;
  }

  function departmentName(code) {
    const d = ((S.hub && S.hub.departments) || []).concat(S.ranking.departments || []).find((x) => x.code === code);
    return d ? name(d) : code;
  }

  function levelLabel(r) {
    return r.level === "escalated" && r.step ? `${t("level_escalated")} ${r.step}` : t(`level_${r.level}`);
  }

  function warningItem(r) {
    const li = el("li", `warn lvl-${r.level}`);
    li.dataset.key = r.key; li.dataset.matterId = r.id; li.dataset.level = r.level; li.dataset.kind = r.kind || "";
    li.append(el("span", "badge", levelLabel(r)), el("span", "wtitle", r.title));
    const line = el("span", "where", r.where);
    const kind = kindLabel(r.kind);
    if (kind) line.prepend(el("span", "wkind", kind));
    li.append(line);
    const cd = el("span", "countdown");
    if (r.due) cd.dataset.due = r.due;
    else if (r.firedAt) cd.textContent = `${t("fired")} ${hhmm(r.firedAt).slice(0, 5)}`;
    li.append(cd);
    return li;
  }

  function renderWarnings() {
    const rows = warningRows().slice(0, 30);
    const list = document.getElementById("warnings");
    list.replaceChildren(...rows.map(warningItem));
    if (!rows.length) list.replaceChildren(el("li", "empty", t("no_items")));
    document.getElementById("warn-count").textContent = rows.length ? String(rows.length) : "";
    tick();
  }

  function renderCommands(onAck) {
    const cmds = [...S.commands.values()].filter((c) => c.text).sort((a, b) => String(b.issued_at).localeCompare(String(a.issued_at))).slice(0, 8);
    const list = document.getElementById("commands");
    const mine = S.hub && S.hub.kind !== "city" ? `${S.hub.kind}:${S.hub.code}` : null;
    list.replaceChildren(...cmds.map((c) => {
      const li = el("li", "cmd"); li.dataset.commandId = c.command_id;
      li.append(el("div", "cmd-text", c.text), el("div", "meta", `${t("issued_by")} ${issuer(c)} · ${hhmm(c.issued_at)}`));
      const targets = el("div", "targets");
      for (const tg of c.targets || []) {
        const key = `${tg.kind}:${tg.code}`, ack = (c.acks || {})[key];
        const late = !ack && c.ack_due_at && new Date(c.ack_due_at) < Date.now();
        const chip = el("span", `chip ${ack ? "ok" : late ? "late" : "pending"}`, `${unitName(tg)} · ${ack ? `${t("acked")} ${ack.user || ""}` : late ? t("late") : t("pending")}`);
        chip.dataset.ackTarget = key; chip.dataset.ackState = ack ? "acked" : late ? "late" : "pending";
        targets.append(chip);
      }
      li.append(targets);
      if (mine && (c.targets || []).some((tg) => `${tg.kind}:${tg.code}` === mine) && !(c.acks || {})[mine]) {
        const btn = el("button", "ack-btn small", t("ack")); btn.type = "button";
        btn.addEventListener("click", () => onAck(c.command_id)); li.append(btn);
      }
      return li;
    }));
    if (!cmds.length) list.replaceChildren(el("li", "empty", t("no_items")));
  }

  function renderTiles(onDrill) {
    const box = document.getElementById("tiles");
    const max = Math.max(1, ...S.units.map((u) => u.open));
    box.className = `tiles n${Math.min(S.units.length, 30)}`;
    box.replaceChildren(...S.units.map((u) => {
      const tile = el("button", `tile${u.overdue ? " has-over" : ""}`); tile.type = "button";
      tile.dataset.unit = `${u.kind}:${u.code}`;
      tile.style.setProperty("--heat", (u.open / max).toFixed(3));
      tile.style.setProperty("--over", Math.min(1, u.overdue / Math.max(1, u.open)).toFixed(3));
      tile.append(el("span", "tile-name", name(u)), el("span", "tile-open", u.open), el("span", "tile-over", u.overdue ? `${t("overdue")} ${u.overdue}` : ""));
      if (u.kind !== "grid") tile.addEventListener("click", () => onDrill(u.kind, u.code));
      else tile.disabled = true;
      return tile;
    }));
  }

  function renderRanking() {
    const rows = (list, id) => document.getElementById(id).replaceChildren(...(list || []).slice(0, 8).map((r, i) => {
      const li = el("li", "rank");
      const rate = r.completion_rate === null || r.completion_rate === undefined ? "—" : `${Math.round(r.completion_rate * 100)}%`;
      li.append(el("span", `pos p${i + 1}`, i + 1), el("span", "rname", name(r)), el("span", "rnum", r.open), el("span", `rnum ${r.overdue ? "bad" : ""}`, r.overdue), el("span", "rnum rate", rate));
      return li;
    }));
    rows(S.ranking.units, "rank-units"); rows(S.ranking.departments, "rank-depts");
    document.getElementById("rank-units-title").textContent = t(S.hub && S.hub.kind === "township" ? "rank_villages" : "rank_units");
  }

  function tick() {
    for (const node of document.querySelectorAll("[data-due]")) {
      const c = countdown(node.dataset.due); node.textContent = c.text; node.classList.toggle("over", c.over);
    }
  }

  return { S, el, name, issuer, reset, summary, apply, renderKpis, renderFeed, renderWarnings, renderCommands,
           renderTiles, renderRanking, tick, cityTime, setZone, setT: (fn) => { t = fn; } };
})();
