// keepcab console: the order beyond its pickup — destination and fare quote on the form and in the queue.
// Loads after console.js and works through its hooks (window.KEEPCAB_HOOKS).
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
    <p id="f-fare" class="fare" role="status"></p>`;
  anchor.after(...part.children);
  let places = [], quoteTimer = null, asked = 0, quoted = "";

  $("#f-dest").addEventListener("input", async () => {
    const text = $("#f-dest").value, known = places.find((p) => p.text === text);
    if (known) { $("#f-dest-coords").value = `${known.lat}, ${known.lon}`; requote(); return; }
    try {
      const { data } = await K.api("GET", "/console/places?" + new URLSearchParams({ q: text }));
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
  });

  // ---- the queue: where to and for how much, under the pickup -----------------------------
  on("snapshot", (state) => { if (state.currency) currency = state.currency; });
  on("queueRow", (o) => {
    if (!o.dropoff_address && o.dropoff_lat == null) return "";
    const where = o.dropoff_address || `${Number(o.dropoff_lat).toFixed(4)}, ${Number(o.dropoff_lon).toFixed(4)}`;
    const fare = o.fare_estimate != null ? ` · <span class="fare" data-fare>${K.esc(money(o.fare_estimate))}</span>` : "";
    return `<div class="dest" data-dest>→ ${K.esc(where)}${fare}</div>`;
  });

  K.renderAll();
})();
