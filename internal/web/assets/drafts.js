// Drafts: text typed into a reply or note, a new request, or a reveal's
// reason is kept in this tab's sessionStorage until the server confirms it
// was saved, so an ended session, a step-up or a reload never loses it.
// A progressive enhancement: without it the forms work as they always do.
//
// What is kept, where, for how long (docs/WEB.md, "Drafts"):
// - only in this tab (sessionStorage): gone when the tab closes;
// - keyed by the person (data-scope, a digest of workspace and account)
//   and the form's address (which holds the ticket number); another
//   person signing in in this tab never sees them, and they are deleted;
// - deleted when the page after a successful send says so, on the page
//   after signing out (data-clear="all"), and after 12 hours.
(() => {
  "use strict";
  const me = document.currentScript;
  let store;
  try {
    store = window.sessionStorage;
  } catch {
    return; // storage refused: nothing is kept
  }
  if (!me || !store) {
    return;
  }
  const PREFIX = "hesar.draft.";
  const MAX_AGE = 12 * 3600 * 1000;
  const drop = (unwanted) => {
    const keys = [];
    for (let i = 0; i < store.length; i++) {
      const k = store.key(i);
      if (k && k.startsWith(PREFIX) && unwanted(k)) {
        keys.push(k);
      }
    }
    keys.forEach((k) => store.removeItem(k));
  };
  if (me.dataset.clear === "all") {
    drop(() => true);
  }
  const scope = me.dataset.scope || "";
  if (!scope) {
    return; // nobody signed in: nothing to show or keep
  }
  const mine = PREFIX + scope + ":";
  const load = (key) => {
    try {
      const d = JSON.parse(store.getItem(key) || "null");
      return d && typeof d.f === "object" && Date.now() - d.t < MAX_AGE ? d : null;
    } catch {
      return null;
    }
  };
  // Someone else's drafts, and old ones, go.
  drop((k) => !k.startsWith(mine) || !load(k));

  // The forms whose text is kept: the fields typed in, and the choices
  // that go with them (a note must come back as a note, not a reply).
  const kinds = [
    { re: /^\/console\/tickets\/\d+\/messages$/, text: ["body"], with: ["kind"] },
    { re: /^\/portal\/requests\/\d+\/messages$/, text: ["body"], with: [] },
    { re: /^\/portal\/requests$/, text: ["subject", "body"], with: [] },
    { re: /^\/console\/tickets\/\d+\/reveal$/, text: ["reason"], with: [], per: "message_id" },
  ];
  const actionOf = (form) => {
    try {
      return new URL(form.action, location.href).pathname;
    } catch {
      return "";
    }
  };
  const keyOf = (form, kind) => {
    let key = mine + actionOf(form);
    if (kind.per) {
      const el = form.elements.namedItem(kind.per);
      key += "#" + (el ? el.value : "");
    }
    return key;
  };
  const read = (form, name) => {
    const el = form.elements.namedItem(name);
    if (!el) {
      return "";
    }
    if (el instanceof RadioNodeList) {
      return el.value;
    }
    if (el.type === "radio" || el.type === "checkbox") {
      return el.checked ? el.value : "";
    }
    return el.value || "";
  };
  const write = (form, name, value) => {
    const el = form.elements.namedItem(name);
    if (!el || value === "") {
      return;
    }
    if (el instanceof RadioNodeList) {
      el.value = value;
    } else if (el.type === "radio" || el.type === "checkbox") {
      el.checked = el.value === value;
    } else {
      el.value = value;
    }
  };
  const save = (form, kind) => {
    const f = {};
    let any = false;
    for (const name of kind.text) {
      f[name] = read(form, name);
      any = any || f[name].trim() !== "";
    }
    for (const name of kind.with) {
      f[name] = read(form, name);
    }
    const key = keyOf(form, kind);
    try {
      if (any) {
        store.setItem(key, JSON.stringify({ t: Date.now(), f }));
      } else {
        store.removeItem(key);
      }
    } catch {
      // Storage full or refused: the form still works.
    }
  };

  // The server confirmed a send: that draft is done.
  // (Only when the page was just reached, not reloaded or come back to:
  // its address still says "sent" then, about an earlier message.)
  const nav = performance.getEntriesByType("navigation")[0];
  const notice = !nav || nav.type === "navigate" ? new URLSearchParams(location.search).get("notice") : "";
  if (notice === "notice.message_sent") {
    store.removeItem(mine + location.pathname.replace(/\/$/, "") + "/messages");
  } else if (notice === "notice.request_sent") {
    store.removeItem(mine + "/portal/requests");
  }
  const forms = Array.from(document.querySelectorAll("form")).map((form) => ({
    form,
    kind: kinds.find((k) => k.re.test(actionOf(form))),
  })).filter((x) => x.kind);
  // A reveal answered with the original has no form for that message any
  // more: its reason is done.
  if (/^\/console\/tickets\/\d+\/reveal$/.test(location.pathname)) {
    const open = new Set(forms.map((x) => keyOf(x.form, x.kind)));
    const done = mine + location.pathname + "#";
    drop((k) => k.startsWith(done) && !open.has(k));
  }

  for (const { form, kind } of forms) {
    const d = load(keyOf(form, kind));
    let restored = null;
    if (d && kind.text.every((name) => read(form, name) === "")) {
      for (const name of kind.text) {
        write(form, name, d.f[name] || "");
      }
      for (const name of kind.with) {
        write(form, name, d.f[name] || "");
      }
      restored = kind.text.map((name) => form.elements.namedItem(name)).find((el) => el && el.value !== "");
    }
    if (restored) {
      const details = form.closest("details");
      if (details) {
        details.open = true;
      }
      const note = document.createElement("p");
      note.className = "hint draft-restored";
      note.setAttribute("role", "status");
      note.textContent = me.dataset.restored || "";
      restored.insertAdjacentElement("afterend", note);
    }
    const keep = () => save(form, kind);
    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    // Kept on sending too: if the session has ended, the page it comes
    // back to after signing in finds it here.
    form.addEventListener("submit", keep);
  }
})();
