// Keyboard shortcuts for the agent console: a progressive enhancement.
// Every page works without this file; it only moves focus, opens links and
// submits forms that are already on the page, and shows the help dialog
// the server rendered (its text comes from the message catalogs).
//
// Letters are matched by their key's place (event.code), so they work in
// the Persian layout too ("j" is the key that types "ت"). Nothing fires
// while a field has focus, except Ctrl/⌘+Enter, which sends that field's
// form.
(() => {
  "use strict";
  const help = document.getElementById("shortcuts");
  if (!help) {
    return;
  }
  const opener = document.querySelector('[data-shortcuts="open"]');
  const showHelp = () => {
    if (!help.open) {
      help.showModal();
    }
  };
  if (opener) {
    opener.hidden = false;
    opener.addEventListener("click", showHelp);
  }

  const typing = (el) =>
    el instanceof HTMLElement &&
    (el.isContentEditable || el.matches("input, textarea, select"));

  // The queue's rows: j/k move focus between the tickets' links, and Enter
  // on a focused link opens it, as it always does.
  const rowLinks = () =>
    Array.from(document.querySelectorAll('[data-shortcuts="rows"] tr a[href]'));
  const moveRow = (step) => {
    const links = rowLinks();
    if (links.length === 0) {
      return;
    }
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    for (const a of links) {
      a.closest("tr").classList.remove("selected");
    }
    links[next].closest("tr").classList.add("selected");
    links[next].focus();
    links[next].scrollIntoView({ block: "nearest" });
  };

  // The ticket's reply form: r for a reply, n for a note.
  const write = (kind) => {
    const body = document.querySelector("form.reply textarea[name=body]");
    if (!body) {
      return false;
    }
    const radio = document.querySelector(`form.reply input[name=kind][value=${kind}]`);
    if (radio) {
      radio.checked = true;
    } else if (kind === "note" || document.querySelector("form.reply input[name=kind]:checked")?.value === "note") {
      return false; // this person may not write that kind
    }
    body.focus();
    return true;
  };

  let pendingG = 0;
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) {
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey) {
      const form = document.activeElement && document.activeElement.form;
      if (form && form.method !== "dialog") {
        e.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || help.open) {
      return;
    }
    const gWasPressed = Date.now() - pendingG < 1500;
    pendingG = 0;
    let done = true;
    switch (true) {
      case e.key === "?" || e.key === "؟" || (e.code === "Slash" && e.shiftKey):
        showHelp();
        break;
      case e.code === "Slash":
        done = !!document.getElementById("f-q");
        if (done) {
          document.getElementById("f-q").focus();
        }
        break;
      case e.code === "KeyJ":
        moveRow(1);
        break;
      case e.code === "KeyK":
        moveRow(-1);
        break;
      case e.code === "KeyR":
        done = write("reply");
        break;
      case e.code === "KeyN":
        done = write("note");
        break;
      case e.code === "KeyG":
        pendingG = Date.now();
        break;
      case e.code === "KeyQ" && gWasPressed: {
        const queue = document.querySelector('[data-shortcuts="queue"]');
        window.location.assign(queue ? queue.href : "/console/");
        break;
      }
      default:
        done = false;
    }
    if (done) {
      e.preventDefault();
    }
  });
})();
