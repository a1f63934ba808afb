// keepcab console: what operators keep about a customer — notes (on the ringing card, editable in the
// caller history) and the "confirm before serving" flag (on the ringing card and the order form, set and
// cleared with a reason in the caller history). Loads after console.js and works through its hooks.
"use strict";
(() => {
  const K = window.KEEPCAB, HOOKS = window.KEEPCAB_HOOKS;
  const on = (name, f) => { (HOOKS[name] = HOOKS[name] || []).push(f); };
  const $ = (sel) => document.querySelector(sel);
  let shown = null; // the customer whose history is open

  const flagBanner = (reason) =>
    `<div class="confirm-flag" data-flag><b>${K.esc(K.t("flag.banner"))}</b>${reason ? `: ${K.esc(reason)}` : ""}</div>`;
  on("card", (c) => (c.confirm_required ? flagBanner(c.confirm_reason) : "") +
    (c.notes ? `<div class="notes" data-notes>${K.esc(c.notes)}</div>` : ""));

  // The order form: a flagged caller's order goes out only with the box ticked (the API refuses it otherwise).
  const form = $("#order-form"), box = document.createElement("div");
  box.id = "f-flag"; box.className = "hidden";
  form.insertBefore(box, form.querySelector(":scope > .row")); // the buttons, not a field's own row
  let flagged = null;
  function drawFormFlag() {
    if (!flagged) { box.className = "hidden"; box.innerHTML = ""; return; }
    box.className = "confirm-flag";
    box.innerHTML = `<b>${K.esc(K.t("flag.banner"))}</b>${flagged.reason ? `: ${K.esc(flagged.reason)}` : ""}
      <label class="check"><input type="checkbox" id="f-confirmed"> ${K.esc(K.t("flag.confirmed"))}</label>`;
  }
  on("formCustomer", (c) => {
    flagged = c && c.confirm_required ? { reason: c.confirm_reason } : null;
    drawFormFlag();
  });
  on("formBody", (body) => {
    const tick = $("#f-confirmed");
    if (flagged && tick && tick.checked) body.confirmed = true;
  });

  on("history", (data) => {
    shown = data.customer;
    const c = data.customer, box = $("#history-care");
    const by = c.notes_updated_by ? K.t("notes.by", { who: c.notes_updated_by.replace(/^operator:/, ""),
      at: new Date(Date.parse(c.notes_updated_at)).toLocaleString(K.S.lang === "ru" ? "ru-RU" : "en-GB") }) : "";
    box.innerHTML = `<form id="notes-form" class="notes-form" autocomplete="off">
        <label><span>${K.esc(K.t("notes.title"))}</span><textarea id="notes-text" name="notes" rows="2" maxlength="2000">${K.esc(c.notes || "")}</textarea></label>
        <div class="row"><button type="submit" class="small">${K.esc(K.t("notes.save"))}</button>
        <small class="hint">${K.esc(by)}</small><span id="notes-status" class="status" role="status"></span></div></form>
      <form id="flag-form" class="flag-form" autocomplete="off">
        ${c.confirm_required ? flagBanner(c.confirm_reason) : `<small class="hint">${K.esc(K.t("flag.none"))}</small>`}
        <div class="row"><input id="flag-reason" name="reason" maxlength="300" placeholder="${K.esc(K.t("flag.reason"))}">
        <button type="submit" class="small" data-flag-to="${c.confirm_required ? "off" : "on"}">${K.esc(K.t(c.confirm_required ? "flag.clear" : "flag.set"))}</button></div>
        <span id="flag-status" class="status" role="status"></span><ol id="flag-audit" class="audit"></ol></form>`;
    loadAudit(c.id);
  });

  async function loadAudit(customerId) {
    try {
      const { data } = await K.api("GET", `/customers/${encodeURIComponent(customerId)}/flag-events`);
      $("#flag-audit").innerHTML = data.map((e) => `<li><time>${K.esc(new Date(Date.parse(e.at)).toLocaleString(K.S.lang === "ru" ? "ru-RU" : "en-GB"))}</time>
        ${K.esc(K.t(e.confirm_required ? "flag.was_set" : "flag.was_cleared", { who: e.actor.replace(/^operator:/, "") }))}${e.reason ? ` (${K.esc(e.reason)})` : ""}</li>`).join("");
    } catch (_) { /* the audit is for reading; the flag itself is on the card */ }
  }

  document.addEventListener("submit", async (e) => {
    if (e.target.id !== "flag-form" || !shown) return;
    e.preventDefault();
    const status = $("#flag-status"), reason = $("#flag-reason").value.trim();
    const on = e.target.querySelector("button[data-flag-to]").dataset.flagTo === "on";
    if (!reason) { status.textContent = K.t("act.reason_required"); status.className = "status error"; return; }
    try {
      await K.api("PUT", `/customers/${encodeURIComponent(shown.id)}/flag`, { confirm_required: on, reason });
      for (const call of K.S.calls.values()) {
        if (call.customer_id === shown.id) { call.confirm_required = on; call.confirm_reason = on ? reason : null; }
      }
      await K.showHistory(shown.id);
      K.renderAll();
    } catch (error) {
      status.textContent = K.t("error.generic", { detail: error.message }); status.className = "status error";
    }
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
