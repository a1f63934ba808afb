// keepcab console: the order beyond its pickup — destination and fare quote on the form and in the queue,
// pre-booked orders (a pickup time on the form; their own list with the release time, edited and
// cancelled there), and orders promised to a car about to become free (chosen in the queue's Assign,
// marked in the queue and the drivers panel). Loads after console.js and works through its hooks.
"use strict";
(() => {
  const K = window.KEEPCAB, HOOKS = window.KEEPCAB_HOOKS;
  const on = (name, f) => { (HOOKS[name] = HOOKS[name] || []).push(f); };
  const $ = (sel) => document.querySelector(sel);
  let currency = "";
  const money = (value) => `≈ ${Number(value).toFixed(2)}${currency ? " " + currency : ""}`;

  // ---- the form: destination (text and point) and the quote ------------------------------
  const form = $("#order-form"), anchor = $("#f-coords").closest("label");
  const part = document.createElement("div");
  part.innerHTML = `<label><span>${K.esc(K.t("dest.address"))}</span><input id="f-dest" name="dest" list="f-dest-places"></label>
    <datalist id="f-dest-places"></datalist>
    <label><span>${K.esc(K.t("dest.coords"))}</span><input id="f-dest-coords" name="dest_coords" placeholder="${K.esc(K.t("dest.coords_hint"))}"></label>
    <p id="f-fare" class="fare" role="status"></p>
    <label><span>${K.esc(K.t("pre.when"))}</span><input id="f-when" name="when" type="datetime-local"></label>`;
  anchor.after(...part.children);
  let places = [], quoteTimer = null, asked = 0, quoted = "";

  $("#f-dest").addEventListener("input", async () => {
    const text = $("#f-dest").value, known = places.find((p) => p.text === text);
    if (known) { $("#f-dest-coords").value = `${known.lat}, ${known.lon}`; requote(); return; }
    if (!/[\p{L}\p{N}]/u.test(text)) return; // the book answers words, not punctuation alone
    try {
      const { data } = await K.api("GET", "/places/suggest?" + new URLSearchParams({ q: text.slice(0, 100) }));
      places = data;
      $("#f-dest-places").innerHTML = data.map((p) => `<option value="${K.esc(p.text)}"></option>`).join("");
    } catch (_) { /* suggestions are a convenience */ }
  });
  $("#f-dest-coords").addEventListener("input", requote);
  $("#f-coords").addEventListener("input", requote);
  form.addEventListener("reset", () => { $("#f-fare").textContent = ""; places = []; quoted = ""; });

  // The quote the server will store with the order: GET /fares/estimate, debounced.
  function requote() {
    clearTimeout(quoteTimer);
    const from = K.parseCoords($("#f-coords").value), to = K.parseCoords($("#f-dest-coords").value), mine = ++asked;
    quoted = String([from, to]);
    if (!from || !to) { $("#f-fare").textContent = ""; return; }
    quoteTimer = setTimeout(async () => {
      const q = new URLSearchParams({ pickup_lat: from[0], pickup_lon: from[1], dropoff_lat: to[0], dropoff_lon: to[1] });
      try {
        const { data } = await K.api("GET", "/fares/estimate?" + q);
        currency = data.currency;
        if (mine === asked) {
          $("#f-fare").textContent = K.t("dest.quote", { fare: money(data.fare), km: (data.dist_m / 1000).toFixed(1), min: Math.round(data.duration_s / 60) });
        }
      } catch (error) { if (mine === asked) $("#f-fare").textContent = K.t("error.generic", { detail: error.message }); }
    }, 200);
  }
  // A pickup set by a ringing card or a map click fires no input event: the once-a-second tick catches it.
  on("tick", () => {
    if (quoted !== String([K.parseCoords($("#f-coords").value), K.parseCoords($("#f-dest-coords").value)])) requote();
  });

  on("formBody", (body) => {
    const text = $("#f-dest").value.trim(), point = K.parseCoords($("#f-dest-coords").value);
    if (text) body.dropoff_address = text;
    if (point) { body.dropoff_lat = point[0]; body.dropoff_lon = point[1]; }
    if ($("#f-when").value) body.pickup_at = new Date($("#f-when").value).toISOString();
  });

  // ---- the queue: where to and for how much, under the pickup -----------------------------
  on("snapshot", (state) => { if (state.currency) currency = state.currency; });
  on("queueRow", (o) => {
    if (!o.dropoff_address && o.dropoff_lat == null) return "";
    const where = o.dropoff_address || `${Number(o.dropoff_lat).toFixed(4)}, ${Number(o.dropoff_lon).toFixed(4)}`;
    const fare = o.fare_estimate != null ? ` · <span class="fare" data-fare>${K.esc(money(o.fare_estimate))}</span>` : "";
    return `<div class="dest" data-dest>→ ${K.esc(where)}${fare}</div>`;
  });

  // ---- pre-booked orders: their own list, soonest release first -----------------------------
  const BOOKED = new Map();
  let panel = null, drawn = "";
  const pad = (n) => String(n).padStart(2, "0");
  function localInput(at) {
    const d = new Date(at * 1000);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const when = (at) => new Date(at * 1000).toLocaleString(K.S.lang === "ru" ? "ru-RU" : "en-GB",
    { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
  const box = document.createElement("div");
  box.id = "prebooked-box";
  box.innerHTML = `<h2>${K.esc(K.t("pre.title"))} <span id="prebooked-count" class="counts"></span></h2>
    <table id="prebooked"><thead></thead><tbody></tbody></table><p id="prebooked-empty" class="hint"></p>`;
  $("#middle").appendChild(box);

  on("snapshot", (state) => {
    BOOKED.clear();
    for (const o of state.scheduled || []) BOOKED.set(o.order_id, o);
    drawn = "";
  });
  on("event", (m) => {
    const d = m.data, id = d.order_id;
    if (m.kind === "order.scheduled" || m.kind === "order.rescheduled") BOOKED.set(id, { ...(BOOKED.get(id) || {}), ...d });
    else if (id && BOOKED.has(id) && m.kind.startsWith("order.") && m.kind !== "order.created") BOOKED.delete(id);
    else return;
    drawn = "";
  });
  on("render", () => {
    const key = K.S.lang + "|" + JSON.stringify(panel);
    if (drawn === key) return; // redrawn only when it changed, so an edit being typed survives
    drawn = key;
    const rows = [...BOOKED.values()].sort((a, b) => a.release_at - b.release_at);
    $("#prebooked-box h2").firstChild.textContent = K.t("pre.title") + " ";
    $("#prebooked-count").textContent = rows.length ? String(rows.length) : "";
    $("#prebooked-empty").textContent = rows.length ? "" : K.t("pre.none");
    $("#prebooked thead").innerHTML = rows.length ? `<tr><th>${K.esc(K.t("pre.pickup_at"))}</th><th>${K.esc(K.t("pre.release_at"))}</th>
      <th>${K.esc(K.t("queue.address"))}</th><th>${K.esc(K.t("queue.customer"))}</th><th>${K.esc(K.t("queue.actions"))}</th></tr>` : "";
    $("#prebooked tbody").innerHTML = rows.map((o) => {
      const row = `<tr data-booking="${K.esc(o.order_id)}"><td class="when">${K.esc(when(o.pickup_at))}</td>
        <td class="release">${K.esc(when(o.release_at))}</td>
        <td>${K.esc(o.pickup_address || `${Number(o.pickup_lat).toFixed(4)}, ${Number(o.pickup_lon).toFixed(4)}`)}</td>
        <td>${K.esc(o.display_name || o.caller || "—")}</td>
        <td class="actions"><button type="button" class="link" data-pre="edit">${K.esc(K.t("pre.edit"))}</button>
        <button type="button" class="link" data-pre="cancel">${K.esc(K.t("act.cancel"))}</button></td></tr>`;
      return panel && panel.order_id === o.order_id ? row + panelRow(o) : row;
    }).join("");
  });
  function panelRow(o) {
    const fields = panel.kind === "edit"
      ? `<label>${K.esc(K.t("pre.pickup_at"))}<input name="when" type="datetime-local" value="${localInput(o.pickup_at)}"></label>
         <label>${K.esc(K.t("queue.address"))}<input name="address" value="${K.esc(o.pickup_address || "")}"></label>
         <label>${K.esc(K.t("form.coords"))}<input name="coords" value="${o.pickup_lat}, ${o.pickup_lon}"></label>`
      : `<label>${K.esc(K.t("act.cause"))}<select name="cause">${["customer", "dispatcher_cancelled"].map((c) =>
          `<option value="${c}">${K.esc(K.t("cause." + c))}</option>`).join("")}</select></label>
         <label>${K.esc(K.t("act.reason"))}<input name="reason"></label>`;
    return `<tr class="panel"><td colspan="5"><form class="row" data-pre-panel="${K.esc(o.order_id)}">${fields}
      <button type="submit">${K.esc(K.t("act.ok"))}</button><button type="button" class="secondary" data-pre="close">${K.esc(K.t("act.close"))}</button>
      <span class="status${panel.error ? " error" : ""}" role="alert">${K.esc(panel.error || "")}</span></form></td></tr>`;
  }
  box.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-pre]");
    if (!button) return;
    const row = button.closest("tr[data-booking]");
    panel = button.dataset.pre === "close" || !row ? null : { order_id: row.dataset.booking, kind: button.dataset.pre };
    K.renderAll();
  });
  box.addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target, id = form.dataset.prePanel, value = (n) => (form.elements[n] ? form.elements[n].value.trim() : "");
    try {
      if (panel.kind === "edit") {
        const o = BOOKED.get(id) || {}, body = {}, point = K.parseCoords(value("coords"));
        if (value("when")) body.pickup_at = new Date(value("when")).toISOString();
        if (value("address") && value("address") !== (o.pickup_address || "")) body.pickup_address = value("address");
        if (point && (point[0] !== o.pickup_lat || point[1] !== o.pickup_lon)) { body.pickup_lat = point[0]; body.pickup_lon = point[1]; }
        await K.api("PATCH", `/orders/${encodeURIComponent(id)}`, body);
      } else {
        await K.api("POST", `/orders/${encodeURIComponent(id)}/cancel`, { cause: value("cause"), reason: value("reason") || null });
      }
      panel = null;
    } catch (error) {
      panel = { ...panel, error: K.t("error.generic", { detail: error.message }) };
    }
    K.renderAll();
  });

  // ---- promised to a car on a job (POST /orders/{id}/assign with when_free) -----------------
  // A promised order stays in S.queue (it still waits), marked with the car it waits for.
  on("snapshot", (state) => {
    for (const o of state.held || []) K.S.queue.set(o.order_id, o);
  });
  on("event", (m) => {
    const d = m.data, o = K.S.queue.get(d.order_id);
    if (m.kind === "order.held") K.S.queue.set(d.order_id, { ...(o || d), held_for: d.driver_id });
    else if (m.kind === "order.unheld" && o) {
      K.S.queue.set(d.order_id, { ...o, held_for: null, effective_at: d.effective_at ?? o.effective_at });
    }
  });
  const km = (car, o) => {
    const dy = (car.lat - o.pickup_lat) * 111320, dx = (car.lon - o.pickup_lon) * 111320 * Math.cos((o.pickup_lat * Math.PI) / 180);
    return (Math.hypot(dx, dy) / 1000).toFixed(1);
  };
  on("assignOptions", (o) => [...K.S.drivers.values()]
    .filter((car) => (car.status === "en_route" || car.status === "on_trip") && !car.leaving && car.driver_id !== o.held_for)
    .map((car) => `<option value="next:${K.esc(car.driver_id)}">${K.esc(car.driver_id)} · ${km(car, o)} km · ${K.esc(K.t("next.when_free", { status: K.t("drivers." + car.status) }))}</option>`)
    .join(""));
  on("queueRow", (o) => (o.held_for ? `<div class="held" data-held="${K.esc(o.held_for)}">${K.esc(K.t("next.waits_for", { driver: o.held_for }))}</div>` : ""));
  on("queueActions", (o) => (o.held_for
    ? `<button type="button" class="link" data-requeue="${K.esc(o.order_id)}">${K.esc(K.t("next.requeue"))}</button>` : ""));
  on("rosterJob", (driverId) => {
    const promised = [...K.S.queue.values()].find((o) => o.held_for === driverId);
    return promised ? `<div class="held" data-next="${K.esc(promised.order_id)}">${K.esc(K.t("next.then", {
      where: promised.pickup_address || K.short(promised.order_id) }))}</div>` : "";
  });
  $("#queue").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-requeue]");
    if (!button) return;
    try { await K.api("POST", `/orders/${encodeURIComponent(button.dataset.requeue)}/requeue`); }
    catch (error) { button.textContent = K.t("error.generic", { detail: error.message }); }
  });

  K.renderAll();
})();
