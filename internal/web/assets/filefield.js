// A file field's chosen-files line in the page's language: a progressive
// enhancement of the "filefield" partial. The real <input type="file"> is
// visually hidden and its label serves as the button, because a browser
// writes the input's own button and "No file chosen" in its language, not
// the page's. This script fills the <output> the input names in
// data-chosen, from the patterns the server put in the page: data-none,
// data-single ("%s" = the name) and data-many ("%s" = the count, then the
// names). The count and the list of names are written as the page's
// language writes them (in Persian: Persian digits, «و» and «،»). Without
// this script the line stays hidden and the field still works.
(() => {
  "use strict";
  const lang = document.documentElement.lang || undefined;
  const number = (n) => {
    try {
      return new Intl.NumberFormat(lang).format(n);
    } catch {
      return String(n);
    }
  };
  // names returns the file names joined as the language lists things, each
  // name isolated (<bdi>) so a Latin name does not reorder Persian text.
  const names = (list) => {
    let parts = list.map((value) => ({ type: "element", value }));
    if (typeof Intl.ListFormat === "function") {
      try {
        parts = new Intl.ListFormat(lang, { type: "conjunction" }).formatToParts(list);
      } catch {
        // the unjoined names below
      }
    }
    const out = document.createDocumentFragment();
    parts.forEach((p, i) => {
      if (p.type === "element") {
        const b = document.createElement("bdi");
        b.textContent = p.value;
        out.append(b);
      } else {
        out.append(p.value);
      }
      if (p.type === "element" && parts[i + 1]?.type === "element") {
        out.append(", ");
      }
    });
    return out;
  };
  // fill puts each value (text or nodes) in place of the pattern's "%s"s.
  const fill = (pattern, ...values) => {
    const out = document.createDocumentFragment();
    pattern.split("%s").forEach((text, i) => {
      out.append(text);
      if (i < values.length) {
        out.append(values[i]);
      }
    });
    return out;
  };
  for (const input of document.querySelectorAll('input[type="file"][data-chosen]')) {
    const line = document.getElementById(input.dataset.chosen);
    if (!line) {
      continue;
    }
    const show = () => {
      const list = Array.from(input.files || [], (f) => f.name);
      let text;
      if (list.length === 0) {
        text = fill(line.dataset.none || "");
      } else if (list.length === 1) {
        text = fill(line.dataset.single || "%s", names(list));
      } else {
        text = fill(line.dataset.many || "%s: %s", number(list.length), names(list));
      }
      line.replaceChildren(text);
    };
    input.addEventListener("change", show);
    // A page restored from the back/forward cache keeps its chosen files.
    window.addEventListener("pageshow", show);
    show();
    line.hidden = false;
  }
})();
