// keepcab console: what operators keep about a customer — notes (on the ringing card, editable in the
// caller history). Loads after console.js and works through its hooks (window.KEEPCAB_HOOKS).
"use strict";
(() => {
  const K = window.KEEPCAB, HOOKS = window.KEEPCAB_HOOKS;
  const on = (name, f) => { (HOOKS[name] = HOOKS[name] || []).push(f); };
  const $ = (sel) => document.querySelector(sel);
  let shown = null; // the customer whose history is open

  on("card", (c) => (c.notes ? `<div class="notes" data-notes>${K.esc(c.notes)}</div>` : ""));

  on("history", (data) => {
    shown = data.customer;
    const c = data.customer, box = $("#history-care");
    const by = c.notes_updated_by ? K.t("notes.by", { who: c.notes_updated_by.replace(/^operator:/, ""),
      at: new Date(Date.parse(c.notes_updated_at)).toLocaleString(K.S.lang === "ru" ? "ru-RU" : "en-GB") }) : "";
    box.innerHTML = `<form id="notes-form" class="notes-form" autocomplete="off">
        <label><span>${K.esc(K.t("notes.title"))}</span><textarea id="notes-text" name="notes" rows="2" maxlength="2000">${K.esc(c.notes || "")}</textarea></label>
        <div class="row"><button type="submit" class="small">${K.esc(K.t("notes.save"))}</button>
        <small class="hint">${K.esc(by)}</small><span id="notes-status" class="status" role="status"></span></div></form>`;
  });

  document.addEventListener("submit", async (e) => {
    if (e.target.id !== "notes-form" || !shown) return;
    e.preventDefault();
    const status = $("#notes-status");
    try {
      await K.api("PUT", `/customers/${encodeURIComponent(shown.id)}/notes`, { notes: $("#notes-text").value });
      status.textContent = K.t("notes.saved"); status.className = "status";
      for (const call of K.S.calls.values()) if (call.customer_id === shown.id) call.notes = $("#notes-text").value.trim() || null;
      K.renderAll();
    } catch (error) {
      status.textContent = K.t("error.generic", { detail: error.message }); status.className = "status error";
    }
  });

  K.renderAll();
})();
