// Address suggestions on the order form: the firm's known addresses as the operator types
// (GET /places/suggest, the caller's own first), a geocoder on request (Find: GET /places/geocode),
// and the choice sets the pickup point. Keys: ↑/↓ move, Enter takes, Esc closes the list.
"use strict";
window.KEEPCAB_PLACES = (() => {
  const $ = (sel) => document.querySelector(sel);
  const K = () => window.KEEPCAB;
  const input = $("#f-address"), list = $("#f-suggest"), find = $("#f-find");
  let items = [], active = -1, asked = 0, timer = null, own = [];

  function render(found, note) {
    const { t, esc } = K();
    items = found; active = found.length ? 0 : -1;
    list.innerHTML = found.map((p, i) => {
      const tag = p.own ? t("places.own") : p.source ? t("places.source." + p.source) : t("places.uses", { n: p.uses });
      return `<li role="option" data-i="${i}" data-text="${esc(p.text)}" class="${i === active ? "active" : ""}">${esc(p.text)}<small>${esc(tag)}</small></li>`;
    }).join("") + (note ? `<li class="note">${esc(note)}</li>` : "");
    list.classList.toggle("hidden", !found.length && !note);
  }
  function hide() { list.classList.add("hidden"); items = []; active = -1; }
  function take(i) {
    const p = items[i];
    if (!p) return;
    input.value = p.text;
    K().setPoint(p.lat, p.lon);
    hide();
  }
  function move(by) {
    if (!items.length) return;
    active = (active + by + items.length) % items.length;
    list.querySelectorAll("li[data-i]").forEach((li) => li.classList.toggle("active", Number(li.dataset.i) === active));
  }

  async function ask() {
    const text = input.value, n = ++asked, { S, api, t } = K();
    if (!/[\p{L}\p{N}]/u.test(text)) { render(own.map((p) => ({ ...p, own: true }))); return; }
    const q = new URLSearchParams({ q: text.slice(0, 100) });
    if (S.taken && S.taken.customer_id) q.set("customer_id", S.taken.customer_id);
    try {
      const { data } = await api("GET", "/places/suggest?" + q);
      if (n === asked && document.activeElement === input) render(data, data.length ? "" : t("places.none"));
    } catch (_) { /* suggestions are a convenience; the map and Find still work */ }
  }
  async function geocode() {
    clearTimeout(timer); // a suggestion still due must not replace the geocoder's answer
    const text = input.value.trim(), n = ++asked, { api, t } = K();
    if (!text) return;
    render([], t("places.searching"));
    try {
      const { data } = await api("GET", "/places/geocode?" + new URLSearchParams({ q: text.slice(0, 100) }));
      if (n === asked) render(data, data.length ? "" : t("places.found_none"));
    } catch (error) {
      if (n === asked) render([], t("error.generic", { detail: error.message }));
    }
    input.focus();
  }

  input.addEventListener("input", () => {
    const typed = input.value, known = [...own, ...items].find((p) => p.text === typed);
    if (known) K().setPoint(known.lat, known.lon);
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  });
  input.addEventListener("focus", () => { if (!input.value && own.length) render(own.map((p) => ({ ...p, own: true }))); });
  input.addEventListener("blur", () => setTimeout(() => { if (![input, find].includes(document.activeElement)) hide(); }, 150));
  input.addEventListener("keydown", (e) => {
    if (list.classList.contains("hidden")) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") { e.preventDefault(); move(e.key === "ArrowDown" ? 1 : -1); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); e.stopPropagation(); take(active); }
    else if (e.key === "Escape") { e.stopPropagation(); hide(); }
  });
  list.addEventListener("mousedown", (e) => {
    const li = e.target.closest("li[data-i]");
    if (!li) return;
    e.preventDefault(); // keep the focus in the field
    take(Number(li.dataset.i));
  });
  find.addEventListener("click", geocode);

  // The caller's own addresses (from the ringing card or the number typed): shown first, and an
  // exact one sets the point as soon as it is typed.
  return { own(places) { own = places || []; if (!own.length) hide(); }, hide };
})();
