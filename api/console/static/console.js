// keepcab operator console: one websocket for state, REST for actions. No framework, no build.
"use strict";
(() => {
  const DICT = window.KEEPCAB_I18N;
  // Parts of the console in modules of their own (care.js, orders_extra.js, ...) register hooks here;
  // each hook returns HTML (joined) or acts. A hook missing changes nothing on the page.
  const HOOKS = (window.KEEPCAB_HOOKS = window.KEEPCAB_HOOKS || {});
  const hook = (name, ...args) => (HOOKS[name] || []).map((f) => f(...args) || "").join("");
  const $ = (sel) => document.querySelector(sel);
  const S = {
    lang: localStorage.getItem("keepcab.lang") || "en",
    key: sessionStorage.getItem("keepcab.key"),
    name: sessionStorage.getItem("keepcab.name") || "",
    lastSeq: null, acked: null, stream: null, socket: null, online: false,
    queue: new Map(), drivers: new Map(), trips: new Map(), calls: new Map(),
    recent: [], figures: {}, clock: { server: Date.now() / 1000, perf: performance.now(), speed: 1 },
    taken: null, places: [], panel: null, bounds: null, ringingIdleS: 120, roster: new Map(), since: new Map(),
  };

  // ---- words --------------------------------------------------------------------------
  function t(key, vars) {
    let text = (DICT[S.lang] && DICT[S.lang][key]) || DICT.en[key] || key;
    for (const [name, value] of Object.entries(vars || {})) text = text.split("{" + name + "}").join(value ?? "–");
    return text;
  }
  function translatePage() {
    document.documentElement.lang = S.lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    $("#lang").textContent = t("lang.switch");
    setOnline(S.online);
    renderAll();
  }
  const tier = (word) => (word ? `<span class="tier">${esc(t("tier." + word))}</span>` : "");
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const short = (id) => String(id || "").slice(0, 6);
  function mmss(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
  }

  // ---- the dispatcher's clock (accelerated in the demo) --------------------------------
  function rebase(serverNow, speed) {
    S.clock = { server: serverNow, perf: performance.now(), speed: speed ?? S.clock.speed };
  }
  const now = () => S.clock.server + ((performance.now() - S.clock.perf) / 1000) * S.clock.speed;
  const hhmmss = (at) => new Date(at * 1000).toLocaleTimeString(S.lang === "ru" ? "ru-RU" : "en-GB");

  // ---- REST ------------------------------------------------------------------------------
  async function api(method, path, body) {
    const response = await fetch(path, {
      method, headers: { "Content-Type": "application/json", "X-API-Key": S.key || "" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) showLogin();
    if (!response.ok) throw new Error(problem(data) || response.statusText);
    return { data, response };
  }
  function problem(data) {
    if (typeof data.detail === "string") return data.detail;
    if (Array.isArray(data.detail)) return data.detail.map((d) => `${(d.loc || []).slice(-1)[0]}: ${d.msg}`).join("; ");
    return data.message || "";
  }

  // ---- login ----------------------------------------------------------------------------
  function showLogin() {
    S.key = null; sessionStorage.removeItem("keepcab.key");
    if (S.socket) { S.socket.onclose = null; S.socket.close(); S.socket = null; }
    $("#login").classList.remove("hidden");
    $("#login-user").focus();
  }
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("#login-error").textContent = "";
    const response = await fetch("/console/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("#login-user").value, password: $("#login-pass").value }),
    });
    if (response.status === 429) { // throttled: even the right password waits (api/login_throttle.py)
      $("#login-error").textContent = t("login.locked", { s: response.headers.get("Retry-After") }); return;
    }
    if (!response.ok) { $("#login-error").textContent = t("login.failed"); return; }
    const data = await response.json();
    S.key = data.key; S.name = data.name;
    sessionStorage.setItem("keepcab.key", S.key); sessionStorage.setItem("keepcab.name", S.name);
    $("#login").classList.add("hidden");
    $("#login-pass").value = "";
    connect();
  });
  $("#logout").addEventListener("click", showLogin);
  $("#lang").addEventListener("click", () => {
    S.lang = S.lang === "en" ? "ru" : "en";
    localStorage.setItem("keepcab.lang", S.lang);
    translatePage();
  });

  // ---- the websocket --------------------------------------------------------------------
  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/console";
    const socket = new WebSocket(url);
    S.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", key: S.key, last_seq: S.lastSeq, stream: S.stream }));
    socket.onmessage = (message) => {
      const parsed = JSON.parse(message.data);
      (Array.isArray(parsed) ? parsed : [parsed]).forEach(receive); // several per frame under load
    };
    socket.onclose = (e) => {
      setOnline(false);
      if (e.code === 4401 || e.code === 4403) { showLogin(); return; }
      setTimeout(() => { if (S.socket === socket && S.key) connect(); }, 1000);
    };
  }
  function setOnline(online) {
    S.online = online;
    $("#conn").textContent = t(online ? "conn.online" : "conn.offline");
    $("#conn").classList.toggle("online", online);
  }
  function receive(m) {
    if (m.type === "welcome") { setOnline(true); S.stream = m.stream; $("#operator").textContent = m.operator; return; }
    if (m.type === "snapshot") { loadSnapshot(m); return; }
    if (m.type === "heartbeat") { rebase(m.now); S.figures = m.figures; renderFigures(); ack(true); return; }
    if (m.type === "figures") { S.figures = m.figures; renderFigures(); return; }
    if (m.type === "event") {
      if (S.lastSeq !== null && m.seq <= S.lastSeq) return; // already applied
      S.lastSeq = m.seq;
      apply(m);
      scheduleRender();
      ack(false);
    }
  }
  // The server sends at most a window of events beyond the last ack (see api/console/socket.py).
  function ack(always) {
    if (S.lastSeq === null || !S.socket || S.socket.readyState !== WebSocket.OPEN) return;
    if (always ? S.acked !== S.lastSeq : S.lastSeq - (S.acked ?? 0) >= 100) {
      S.socket.send(JSON.stringify({ type: "ack", seq: S.lastSeq }));
      S.acked = S.lastSeq;
    }
  }
  function loadSnapshot(m) {
    const st = m.state;
    S.lastSeq = m.seq; S.acked = m.seq;
    rebase(m.now, m.clock_speed);
    S.queue = new Map(st.queue.map((o) => [o.order_id, o]));
    S.drivers = new Map(st.drivers.map((d) => [d.driver_id, d]));
    S.trips = new Map(st.trips.map((o) => [o.order_id, o]));
    S.calls = new Map(st.calls.map((c) => [c.call_id, { ...c, last_event_at: c.last_event_at ?? c.ringing_at }]));
    if (typeof st.ringing_idle_s === "number") S.ringingIdleS = st.ringing_idle_s;
    S.recent = st.recent.slice(-40);
    S.figures = st.figures;
    hook("snapshot", st);
    renderAll();
    loadRoster();
    configureMap();
  }

  // Every event sets state (it never adds to it), so applying one twice changes nothing.
  function apply(m) {
    const d = m.data, id = d.order_id;
    switch (m.kind) {
      case "order.queued": S.queue.set(id, { ...(S.queue.get(id) || {}), ...d, status: "queued" }); break;
      case "order.priority_overridden": {
        const o = S.queue.get(id);
        if (o) S.queue.set(id, { ...o, head_start_s: d.new_head_start_s, effective_at: d.effective_at, overridden: d.cause });
        break;
      }
      case "order.assigned": S.queue.delete(id); S.trips.set(id, { ...d }); break;
      case "order.picked_up": S.trips.set(id, { ...(S.trips.get(id) || {}), ...d }); break;
      case "order.completed": case "order.cancelled": case "order.rejected": case "order.expired":
        S.queue.delete(id); S.trips.delete(id); break;
      case "driver.status":
        S.since.set(d.driver_id, m.at);
        if (S.roster.has(d.driver_id)) S.roster.set(d.driver_id, { ...S.roster.get(d.driver_id), status: d.driver_status });
        if (d.driver_status === "offline") S.drivers.delete(d.driver_id);
        else S.drivers.set(d.driver_id, { ...(S.drivers.get(d.driver_id) || {}), driver_id: d.driver_id, status: d.driver_status, lat: d.lat, lon: d.lon });
        break;
      case "driver.leaving": {
        const car = S.drivers.get(d.driver_id);
        if (car) S.drivers.set(d.driver_id, { ...car, leaving: d.leaving });
        break;
      }
      case "driver.moved":
        for (const car of d.drivers) {
          if (car.status === "offline") S.drivers.delete(car.driver_id); else S.drivers.set(car.driver_id, car);
        }
        break;
      case "call.ringing": S.calls.set(d.call_id, { ...d, last_event_at: m.at }); break;
      case "call.answered": {
        const card = S.calls.get(d.call_id);
        if (card) S.calls.set(d.call_id, { ...card, answered: true, last_event_at: m.at });
        break;
      }
      case "call.ended": case "call.abandoned": endCall(d.call_id); break;
    }
    hook("event", m);
    if (m.kind !== "driver.moved" && m.kind !== "driver.status") {
      S.recent.push(m);
      if (S.recent.length > 40) S.recent.shift();
    }
  }

  // A card leaves when the PBX says the call ended, or after `ringingIdleS` without any event of
  // it (a PBX that never sends the end). The card on the form stays until the order is typed.
  function endCall(callId) {
    const card = S.calls.get(callId);
    if (!card) return;
    if (S.taken && S.taken.call_id === callId) card.finished = true;
    else S.calls.delete(callId);
  }
  function sweepCalls() {
    const cutoff = now() - S.ringingIdleS;
    let changed = false;
    for (const c of [...S.calls.values()]) {
      if ((c.last_event_at ?? c.ringing_at ?? 0) < cutoff && !(S.taken && S.taken.call_id === c.call_id)) {
        S.calls.delete(c.call_id); changed = true;
      }
    }
    if (changed) renderCalls();
  }

  // ---- reasons, from translatable parts ------------------------------------------------
  // valuation.score.render_reason writes "<tier>: <activity>[, N failed, last <ago> ago] -> <head start>";
  // each part is matched here and rebuilt from the dictionary, so no English is left in RU.
  const REASON = /^(.+?): (first order, no history|no completed trip yet \((\d+) orders\)|(\d+) trips \(([\d.]+)\/mo\))(?:, (\d+) failed, last (\d+) (min|h|d|mo) ago)? -> (no head start|\+(\d+) (s|min))$/;
  function reasonText(reason) {
    const text = String(reason || "");
    const prefix = text.startsWith("history unavailable; ") ? t("reason.unavailable") + "; " : "";
    const m = text.slice(prefix ? "history unavailable; ".length : 0).match(REASON);
    if (!m) return text;
    let activity;
    if (m[2].startsWith("first")) activity = t("reason.first_order");
    else if (m[3] !== undefined) activity = t("reason.no_completed", { orders: m[3] });
    else activity = t("reason.trips", { trips: m[4], per_month: m[5] });
    const failed = m[6] !== undefined ? t("reason.failed", { failed: m[6], ago: `${m[7]} ${t("unit." + m[8])}` }) : "";
    const head = m[10] !== undefined ? `+${m[10]} ${t("unit." + m[11])}` : t("reason.no_head_start");
    return `${prefix}${t("tier." + m[1])}: ${activity}${failed} → ${head}`;
  }

  // ---- rendering -----------------------------------------------------------------------
  let pending = false;
  function scheduleRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; renderAll(); });
  }
  function renderAll() { renderFigures(); renderCalls(); renderQueue(); renderMap(); renderRecent(); renderRoster(); hook("render"); }

  function sortedQueue() {
    return [...S.queue.values()].sort((a, b) =>
      (a.effective_at - b.effective_at) || ((a.requested_at || 0) - (b.requested_at || 0)) || (a.order_id < b.order_id ? -1 : 1));
  }
  const waitOf = (o) => now() - (o.pickup_at || o.requested_at || now());

  function renderFigures() {
    const f = S.figures || {};
    const longest = Math.max(0, ...[...S.queue.values()].map(waitOf));
    const fig = (label, value, extra) => `<div class="fig"><b>${value ?? 0}</b><small>${esc(label)}${extra || ""}</small></div>`;
    $("#figures").innerHTML =
      fig(t("fig.orders"), f.orders) + fig(t("fig.assigned"), f.assigned) + fig(t("fig.refused"), f.refused) +
      fig(t("fig.abandoned"), (f.abandoned || 0) + (f.calls_abandoned || 0), ` (${esc(t("fig.calls_abandoned"))}: <span id="calls-abandoned">${f.calls_abandoned || 0}</span>)`) +
      fig(t("fig.longest_wait"), `<span id="longest-wait">${mmss(longest)}</span>`);
  }

  function callTitle(c) {
    if (c.known) return esc(c.display_name || c.caller || t("calls.unknown"));
    return esc(t("calls.unknown")) + (c.caller ? " · " + esc(c.caller) : " · " + esc(t("calls.withheld")));
  }
  function renderCalls() {
    const calls = [...S.calls.values()].sort((a, b) => a.ringing_at - b.ringing_at);
    if (!calls.length) { $("#calls").innerHTML = `<p class="hint">${esc(t("calls.none"))}</p>`; return; }
    $("#calls").innerHTML = calls.map((c, i) => {
      const places = (c.places || []).map((p, k) =>
        `<li><button type="button" data-call="${esc(c.call_id)}" data-place="${k}">${i === 0 ? `<kbd>${k + 1}</kbd>` : ""}${esc(p.text)}</button></li>`).join("");
      const active = c.active_order ? `<div class="active">${esc(t("calls.active_order"))}: ${esc(short(c.active_order.order_id))} · ${esc(c.active_order.status)}${c.active_order.driver_id ? " · " + esc(c.active_order.driver_id) : ""}</div>` : "";
      const taken = S.taken && S.taken.call_id === c.call_id;
      return `<div class="call${taken ? " taken" : ""}" data-call-card="${esc(c.call_id)}">
        <div class="who">${callTitle(c)}${tier(c.tier)}${taken ? ` <small>(${esc(t("calls.taken"))})</small>` : ""}</div>
        ${c.display_name && c.caller ? `<div class="hint">${esc(c.caller)}</div>` : ""}
        ${c.answered ? `<div class="hint">${esc(t("calls.answered"))}</div>` : ""}
        ${c.reason ? `<div class="reason">${esc(reasonText(c.reason))}</div>` : ""}
        ${hook("card", c)}<ol>${places}</ol>${active}
        ${c.customer_id ? `<button type="button" class="link" data-history="${esc(c.customer_id)}">${esc(t("history.show"))}</button>` : ""}
        <button type="button" class="link" data-call="${esc(c.call_id)}" data-place="-1">${i === 0 ? "<kbd>Enter</kbd>" : ""}${esc(t("form.address"))}…</button>
      </div>`;
    }).join("");
  }
  document.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-history]");
    if (button) showHistory(button.dataset.history);
  });
  $("#calls").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-call]");
    if (button) takeCall(button.dataset.call, Number(button.dataset.place));
  });

  function renderQueue() {
    const rows = sortedQueue();
    $("#queue-empty").style.display = rows.length ? "none" : "";
    const html = [];
    rows.forEach((o, i) => {
      const wait = waitOf(o);
      html.push(`<tr data-order="${esc(o.order_id)}">
        <td>${i + 1}</td><td class="wait${wait > 600 ? " long" : ""}">${mmss(wait)}</td>
        <td>${esc(o.pickup_address || `${Number(o.pickup_lat).toFixed(4)}, ${Number(o.pickup_lon).toFixed(4)}`)}${hook("queueRow", o)}</td>
        <td>${esc(o.display_name || o.caller || "—")}${tier(o.tier)}</td>
        <td>+${mmss(o.head_start_s || 0)}</td>
        <td class="reason">${esc(o.overridden ? o.overridden : reasonText(o.reason))}</td>
        <td class="actions">
          <button type="button" class="link" data-act="assign">${esc(t("act.assign"))}</button>
          <button type="button" class="link" data-act="cancel">${esc(t("act.cancel"))}</button>
          <button type="button" class="link" data-act="priority">${esc(t("act.priority"))}</button>
          ${o.customer_id ? `<button type="button" class="link" data-history="${esc(o.customer_id)}">${esc(t("history.show"))}</button>` : ""}
          ${hook("queueActions", o)}</td></tr>`);
      if (S.panel && S.panel.order_id === o.order_id) html.push(panelRow(o));
    });
    const focused = S.panel ? saveFocus() : null;
    $("#queue tbody").innerHTML = html.join("");
    if (focused) focused();
  }
  function saveFocus() {
    const values = [...document.querySelectorAll("tr.panel [name]")].map((el) => [el.name, el.value]);
    const active = document.activeElement;
    const name = active && active.closest && active.closest("tr.panel") ? active.name : null;
    return () => {
      for (const [n, v] of values) { const el = document.querySelector(`tr.panel [name="${n}"]`); if (el) el.value = v; }
      const el = name && document.querySelector(`tr.panel [name="${name}"]`);
      if (el) el.focus();
    };
  }
  function panelRow(o) {
    const kind = S.panel.kind;
    let fields = "";
    if (kind === "assign") {
      const free = [...S.drivers.values()].filter((d) => d.status === "free")
        .sort((a, b) => dist(a, o) - dist(b, o));
      fields = `<label>${esc(t("act.driver"))}<select name="driver">${(free.map((d) =>
        `<option value="${esc(d.driver_id)}">${esc(d.driver_id)} · ${(dist(d, o) / 1000).toFixed(1)} km</option>`).join("") +
        hook("assignOptions", o)) || `<option value="">${esc(t("act.no_free"))}</option>`}</select></label>`;
    } else if (kind === "cancel") {
      const causes = ["customer", "abandoned", "dispatcher_cancelled", "no_car", "driver_no_show"];
      fields = `<label>${esc(t("act.cause"))}<select name="cause">${causes.map((c) => `<option value="${c}">${esc(t("cause." + c))}</option>`).join("")}</select></label>
        <label>${esc(t("act.reason"))}<input name="reason"></label>`;
    } else {
      fields = `<label>${esc(t("act.head_start_s"))}<input name="head_start_s" type="number" min="0" max="300" step="30" value="${Math.round(o.head_start_s || 0)}"></label>
        <label>${esc(t("act.reason"))}<input name="reason"></label>`;
    }
    return `<tr class="panel"><td colspan="7"><form class="row" data-panel="${esc(o.order_id)}">${fields}
      <button type="submit">${esc(t("act.ok"))}</button><button type="button" class="secondary" data-act="close">${esc(t("act.close"))}</button>
      <span class="status${S.panel.error ? " error" : ""}" role="alert">${esc(S.panel.status || "")}</span></form></td></tr>`;
  }
  function dist(a, b) {
    const la = (b.pickup_lat ?? b.lat), lo = (b.pickup_lon ?? b.lon);
    const dy = (a.lat - la) * 111320, dx = (a.lon - lo) * 111320 * Math.cos((la * Math.PI) / 180);
    return Math.hypot(dx, dy);
  }
  $("#queue").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-act]");
    if (!button || !button.closest("#queue")) return;
    if (button.dataset.act === "close") { S.panel = null; renderQueue(); return; }
    const row = button.closest("tr[data-order]");
    S.panel = { order_id: row.dataset.order, kind: button.dataset.act };
    renderQueue();
    const first = document.querySelector("tr.panel select, tr.panel input");
    if (first) first.focus();
  });
  $("#queue").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target, id = form.dataset.panel, status = form.querySelector(".status");
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    try {
      if (S.panel.kind === "assign") { // "next:<id>": a car on a job, handed the order when it ends (booking.js)
        const driver = value("driver"), next = driver.startsWith("next:");
        await api("POST", `/orders/${id}/assign`, next ? { driver_id: driver.slice(5), when_free: true } : { driver_id: driver });
      }
      else if (S.panel.kind === "cancel") await api("POST", `/orders/${id}/cancel`, { cause: value("cause"), reason: value("reason") || null });
      else {
        if (!value("reason")) { showPanelStatus(status, t("act.reason_required")); return; }
        await api("POST", `/orders/${id}/priority`, { head_start_s: Number(value("head_start_s")), reason: value("reason") });
      }
      S.panel = null;
      renderQueue();
    } catch (error) {
      showPanelStatus(status, t("error.generic", { detail: error.message }));
    }
  });
  // The queue re-renders every second; the message lives in S.panel so it survives that.
  function showPanelStatus(status, text) {
    if (S.panel) { S.panel.status = text; S.panel.error = true; }
    status.textContent = text;
    status.className = "status error";
  }

  // ---- the map -----------------------------------------------------------------------
  // map.js draws (Leaflet); S.bounds still frames the town for a car brought online.
  function updateBounds(points) {
    let b = S.bounds;
    for (const [lat, lon] of points) {
      if (lat == null || lon == null) continue;
      if (!b) b = { s: lat - 0.005, n: lat + 0.005, w: lon - 0.008, e: lon + 0.008 };
      b = { s: Math.min(b.s, lat), n: Math.max(b.n, lat), w: Math.min(b.w, lon), e: Math.max(b.e, lon) };
    }
    S.bounds = b;
  }
  function setPoint(lat, lon) {
    $("#f-coords").value = `${+Number(lat).toFixed(6)}, ${+Number(lon).toFixed(6)}`;
    renderMap();
  }
  const MAP = window.KEEPCAB_MAP;
  MAP.init($("#map"), (lat, lon) => { setPoint(lat, lon); $("#f-address").focus(); });
  let mapReady = false;
  async function configureMap() { // GET /places/map: tiles, or the town from the known addresses
    if (mapReady) return;
    try {
      const settings = (await api("GET", "/places/map")).data;
      MAP.configure(settings, settings.tile_url ? [] : (await api("GET", "/places/points")).data);
      mapReady = true;
    } catch (_) { /* tried again with the next snapshot */ }
  }
  function renderMap() {
    const cars = [...S.drivers.values()];
    const waiting = [...S.queue.values()];
    updateBounds([...cars.map((d) => [d.lat, d.lon]), ...waiting.map((o) => [o.pickup_lat, o.pickup_lon])]);
    const counts = { free: 0, en_route: 0, on_trip: 0 };
    cars.forEach((d) => { if (d.status in counts) counts[d.status] += 1; });
    $("#driver-counts").innerHTML = ["free", "en_route", "on_trip"].map((s) =>
      `<i style="background:var(--${s})"></i>${esc(t("drivers." + s))}: <b data-count="${s}">${counts[s]}</b>`).join(" ") +
      ` <i class="square" style="background:var(--wait)"></i>${esc(t("drivers.waiting"))}: <b data-count="waiting">${waiting.length}</b>`;
    const routes = [...S.trips.values()].filter((o) => o.status === "assigned" && o.pickup_lat != null && S.drivers.get(o.driver_id))
      .map((o) => [S.drivers.get(o.driver_id), o]);
    MAP.draw({ cars, waiting, routes, chosen: parseCoords($("#f-coords").value) });
  }

  function renderRecent() {
    $("#recent").innerHTML = S.recent.slice().reverse().slice(0, 25).map((m) => {
      const d = m.data || {};
      const cause = causeText(d.cause, d.reason);
      const key = m.kind === "driver.leaving" && !d.leaving ? "ev.driver.staying" : "ev." + m.kind;
      const text = t(key, { order: short(d.order_id), driver: d.driver_id, cause, caller: d.display_name || d.caller || t("calls.unknown") });
      return `<li data-seq="${m.seq}"><time>${hhmmss(m.at)}</time>${esc(text)}</li>`;
    }).join("");
  }

  // A cause is a dictionary key; a customer's own cancellation stores the operator's words in its
  // place (api.live.store), and any operator's words go beside the translated cause.
  function causeText(cause, words) {
    if (cause && DICT.en["cause." + cause]) return t("cause." + cause) + (words ? ` (${words})` : "");
    return t("cause.customer") + (cause ? ` (${cause})` : "");
  }

  // ---- the order form --------------------------------------------------------------------
  function parseCoords(text) {
    const m = String(text || "").match(/^\s*(-?\d+(?:\.\d+)?)\s*[,; ]\s*(-?\d+(?:\.\d+)?)\s*$/);
    return m ? [Number(m[1]), Number(m[2])] : null;
  }
  function takeCall(callId, placeIndex) {
    const c = S.calls.get(callId);
    if (!c) return;
    clearForm();
    S.taken = { call_id: callId, customer_id: c.customer_id || null };
    $("#f-call").value = callId;
    $("#f-phone").value = c.caller || "";
    $("#f-customer").value = c.known ? `${c.display_name || short(c.customer_id)} · ${t("tier." + c.tier)}` : t("calls.unknown");
    S.places = c.places || [];
    fillPlaces(S.places);
    hook("formCustomer", c.customer_id ? c : null);
    const place = S.places[placeIndex];
    if (place) { $("#f-address").value = place.text; $("#f-coords").value = `${place.lat}, ${place.lon}`; }
    renderCalls();
    renderMap();
    $("#f-address").focus();
    $("#f-address").select();
  }
  const fillPlaces = (places) => window.KEEPCAB_PLACES.own(places); // places.js suggests as you type
  function clearForm() {
    if (S.taken && (S.calls.get(S.taken.call_id) || {}).finished) S.calls.delete(S.taken.call_id);
    $("#order-form").reset();
    $("#f-call").value = "";
    $("#f-status").textContent = "";
    S.taken = null; S.places = [];
    fillPlaces([]);
    hook("formCustomer", null);
    renderCalls();
    renderMap();
  }
  // A number typed by hand finds the caller as a ring would (GET /customers/lookup, debounced).
  let phoneTimer = null, phoneAsked = 0;
  $("#f-phone").addEventListener("input", () => {
    clearTimeout(phoneTimer);
    if (S.taken && S.taken.call_id) return; // the ringing card already said who it is
    const typed = $("#f-phone").value.trim(), asked = ++phoneAsked;
    if ((typed.match(/\d/g) || []).length < 6) { showCustomer(null, typed); return; }
    phoneTimer = setTimeout(async () => {
      let card = null;
      try { card = (await api("GET", "/customers/lookup?" + new URLSearchParams({ phone: typed }))).data; }
      catch (_) { card = null; } // 404: a new caller; 422: not a number yet
      if (asked === phoneAsked) showCustomer(card, typed);
    }, 200);
  });
  function showCustomer(card, typed) {
    if (!card) {
      $("#f-customer").value = typed ? t("calls.unknown") : "";
      if (S.taken && !S.taken.call_id) S.taken = null;
      S.places = []; fillPlaces([]);
      hook("formCustomer", null);
      return;
    }
    const c = card.customer;
    S.taken = { call_id: null, customer_id: c.id };
    $("#f-customer").value = `${c.display_name || short(c.id)} · ${t("tier." + card.score.tier)}`;
    $("#f-customer").dataset.customerId = c.id;
    S.places = card.addresses.map((a) => ({ text: a.text, lat: a.lat, lon: a.lon }));
    S.taken.places = S.places;
    fillPlaces(S.places);
    hook("formCustomer", { customer_id: c.id, ...c });
  }
  $("#f-clear").addEventListener("click", clearForm);
  $("#order-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const coords = parseCoords($("#f-coords").value);
    const status = $("#f-status");
    if (!coords) { status.textContent = t("form.need_coords"); status.className = "status error"; return; }
    const body = { pickup_lat: coords[0], pickup_lon: coords[1] };
    const address = $("#f-address").value.trim(), phone = $("#f-phone").value.trim(), call = $("#f-call").value;
    if (address) body.pickup_address = address;
    if (phone) body.phone = phone;
    if (call) body.call_id = call;
    hook("formBody", body);
    try {
      const { data, response } = await api("POST", "/orders", body);
      const existing = response.headers.get("Keepcab-Existing-Order");
      if (call) S.calls.delete(call);
      clearForm();
      status.textContent = existing ? t("form.existing", { id: short(data.id), why: existing }) : t("form.created", { id: short(data.id) });
      status.className = "status";
      status.dataset.orderId = data.id;
    } catch (error) {
      status.textContent = t("error.generic", { detail: error.message });
      status.className = "status error";
    }
  });

  // ---- the keyboard --------------------------------------------------------------------
  document.addEventListener("keydown", (e) => {
    const typing = e.target.closest && e.target.closest("input, select, textarea");
    if (e.key === "Escape") {
      if (S.panel) { S.panel = null; renderQueue(); return; }
      if (e.target.closest && e.target.closest("#order-form")) { clearForm(); $("#f-phone").focus(); }
      return;
    }
    if (typing || e.ctrlKey || e.altKey || e.metaKey || !$("#login").classList.contains("hidden")) return;
    const first = [...S.calls.values()].sort((a, b) => a.ringing_at - b.ringing_at)[0];
    if (!first) return;
    if (/^[1-3]$/.test(e.key)) { e.preventDefault(); takeCall(first.call_id, Number(e.key) - 1); }
    else if (e.key === "Enter" && !e.target.closest("button")) { e.preventDefault(); takeCall(first.call_id, -1); }
  });

  // ---- the drivers panel (GET /drivers for the whole roster, events for what changes) ------
  async function loadRoster() {
    try {
      const { data } = await api("GET", "/drivers");
      S.roster = new Map(data.map((d) => [d.id, d]));
      for (const d of data) if (!S.since.has(d.id)) S.since.set(d.id, Date.parse(d.updated_at) / 1000);
      renderRoster();
    } catch (_) { /* the map still shows the cars */ }
  }
  function statusOf(id) {
    const live = S.drivers.get(id);
    return live ? live.status : (S.roster.get(id) || {}).status || "offline";
  }
  function renderRoster() {
    const ids = [...new Set([...S.roster.keys(), ...S.drivers.keys()])].sort();
    const jobs = new Map([...S.trips.values()].map((o) => [o.driver_id, o]));
    $("#roster tbody").innerHTML = ids.map((id) => {
      const status = statusOf(id), live = S.drivers.get(id) || {}, known = S.roster.get(id) || {};
      const leaving = live.leaving || known.leaving;
      const since = S.since.get(id), job = jobs.get(id);
      const word = t("drivers." + status) + (leaving ? ` · ${t("roster.ending")}` : "");
      const act = status === "offline"
        ? `<button type="button" class="link" data-driver-act="online" data-driver="${esc(id)}">${esc(t("roster.online"))}</button>`
        : `<button type="button" class="link" data-driver-act="offline" data-driver="${esc(id)}">${esc(t("roster.offline"))}</button>`;
      return `<tr data-driver-row="${esc(id)}"><td>${esc(id)}${known.name ? ` <small>${esc(known.name)}</small>` : ""}</td>
        <td class="st ${esc(status)}">${esc(word)}</td><td>${since ? mmss(now() - since) : "–"}</td>
        <td>${job ? esc(job.pickup_address || short(job.order_id)) : ""}${hook("rosterJob", id)}</td><td>${act}</td></tr>`;
    }).join("");
  }
  $("#roster").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-driver-act]");
    if (!button) return;
    const id = button.dataset.driver, status = $("#roster-status");
    try {
      if (button.dataset.driverAct === "offline") await api("POST", `/drivers/${encodeURIComponent(id)}/offline?when_free=true`);
      else {
        const d = S.roster.get(id) || {}, centre = S.bounds ? [(S.bounds.s + S.bounds.n) / 2, (S.bounds.w + S.bounds.e) / 2] : [0, 0];
        await api("POST", `/drivers/${encodeURIComponent(id)}/online`, { lat: d.lat ?? centre[0], lon: d.lon ?? centre[1] });
      }
      status.textContent = ""; status.className = "status";
      await loadRoster();
    } catch (error) { status.textContent = t("error.generic", { detail: error.message }); status.className = "status error"; }
  });
  $("#add-driver").addEventListener("submit", async (e) => {
    e.preventDefault();
    const status = $("#roster-status"), id = $("#new-driver-id").value.trim(), name = $("#new-driver-name").value.trim();
    try {
      await api("POST", "/drivers", name ? { id, name } : { id });
      $("#add-driver").reset();
      status.textContent = t("roster.added", { driver: id }); status.className = "status";
      await loadRoster();
    } catch (error) { status.textContent = t("error.generic", { detail: error.message }); status.className = "status error"; }
  });

  // ---- a caller's history (GET /customers/{id}: last orders with outcome, time, address) ----
  async function showHistory(customerId) {
    try {
      const { data } = await api("GET", `/customers/${encodeURIComponent(customerId)}`);
      $("#history-who").textContent = `${data.customer.display_name || short(data.customer.id)} · ${t("tier." + data.score.tier)}`;
      $("#history-list").innerHTML = data.recent_orders.map((o) => {
        const outcome = o.failure_cause ? causeText(o.failure_cause) : t("status." + o.status);
        const at = Date.parse(o.requested_at) / 1000;
        return `<li><time>${esc(new Date(at * 1000).toLocaleString(S.lang === "ru" ? "ru-RU" : "en-GB"))}</time><span class="outcome">${esc(outcome)}</span>${esc(o.pickup_address || "")}</li>`;
      }).join("") || `<li>${esc(t("history.none"))}</li>`;
      $("#history").classList.remove("hidden");
      hook("history", data);
    } catch (error) {
      $("#history-list").innerHTML = `<li class="error">${esc(t("error.generic", { detail: error.message }))}</li>`;
      $("#history").classList.remove("hidden");
    }
  }
  $("#history-close").addEventListener("click", () => $("#history").classList.add("hidden"));

  // What the modules may use (they load after this file).
  window.KEEPCAB = { S, api, t, esc, short, mmss, now, hhmmss, renderAll, renderQueue, showHistory, parseCoords, causeText, setPoint };
  setInterval(() => { renderQueue(); renderFigures(); sweepCalls(); renderRoster(); hook("tick"); }, 1000);
  translatePage();
  if (S.key) { $("#login").classList.add("hidden"); connect(); } else showLogin();
})();
