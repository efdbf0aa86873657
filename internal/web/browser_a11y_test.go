package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// a11yAudit runs in the page (through DevTools, so the page's CSP does
// not apply to it) and measures what WCAG 2.1 AA asks of every page:
//
//   - contrast: every visible text (and the value text of every form
//     control) against its effective background: the element's
//     background colours composited up the tree until an opaque one (the
//     canvas is white). 4.5:1, or 3:1 for large text (≥ 24px, or ≥ 18.66px
//     bold). A background image makes the contrast unmeasurable, which is
//     reported too;
//   - names: every input, select and textarea has a label (label[for], a
//     wrapping label, aria-label or aria-labelledby with text), every link
//     and button has a name;
//   - errors: a field marked aria-invalid is described by an element with
//     text (its error message);
//   - structure: the language and direction on <html>, one h1, one main
//     landmark.
const a11yAudit = `(() => {
  const parse = s => {
    const m = /^rgba?\(([^)]+)\)$/.exec(s);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const lin = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = c => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage && cs.backgroundImage !== 'none') return null;
      const c = parse(cs.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const hex = c => '#' + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
  const describe = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    else if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '').trim().replace(/\s+/g, ' ');
    return text ? s + ' "' + text.slice(0, 40) + '"' : s;
  };
  const hidden = el => {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return true;
    for (let e = el; e; e = e.parentElement) {
      const r = e.getBoundingClientRect();
      if (getComputedStyle(e).clipPath !== 'none' && r.width * r.height <= 4) return true;
    }
    return false;
  };
  const out = {lang: document.documentElement.getAttribute('lang') || '', dir: document.documentElement.getAttribute('dir') || '',
    direction: getComputedStyle(document.documentElement).direction,
    h1: document.querySelectorAll('h1').length, main: document.querySelectorAll('main, [role=main]').length,
    measured: 0, min: 99, minAt: '', contrast: [], unlabeled: [], unnamed: [], untied: []};
  const measure = (el, what) => {
    const cs = getComputedStyle(el);
    const bg = background(el);
    if (!bg) { out.contrast.push({el: what, ratio: 0, need: 0, fg: cs.color, bg: 'an image'}); return; }
    let fg = parse(cs.color);
    if (!fg) return;
    if (fg[3] < 1) fg = over(fg, bg);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    const r = ratio(fg, bg);
    out.measured++;
    if (r < out.min) { out.min = r; out.minAt = what; }
    if (r < need) out.contrast.push({el: what, ratio: Math.floor(r * 100) / 100, need, fg: hex(fg), bg: hex(bg), size, bold});
  };
  const seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || seen.has(el) || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION'].includes(el.tagName)) continue;
    seen.add(el);
    if (!hidden(el)) measure(el, describe(el));
  }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (type === 'hidden') continue;
    if (!['checkbox', 'radio', 'file', 'submit', 'button', 'image', 'range', 'color'].includes(type) && !el.disabled && !hidden(el)) measure(el, describe(el));
    let name = '';
    for (const l of el.labels || []) name += l.textContent.trim();
    name = name || (el.getAttribute('aria-label') || '').trim();
    if (!name && el.getAttribute('aria-labelledby')) {
      name = el.getAttribute('aria-labelledby').split(/\s+/).map(id => { const x = document.getElementById(id); return x ? x.textContent.trim() : ''; }).join('').trim();
    }
    if (!name) out.unlabeled.push(describe(el));
  }
  for (const el of document.querySelectorAll('a[href], button')) {
    const name = (el.textContent || '').trim() || (el.getAttribute('aria-label') || '').trim() ||
      Array.from(el.querySelectorAll('img[alt]')).map(i => i.alt.trim()).join('');
    if (!name) out.unnamed.push(describe(el));
  }
  for (const el of document.querySelectorAll('[aria-invalid=true]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (!ids.some(id => { const x = document.getElementById(id); return x && x.textContent.trim() && !hidden(x); })) out.untied.push(describe(el));
  }
  return out;
})()`

// reflowAudit measures WCAG 2.1 SC 1.4.10 (reflow) and clipped text at
// the window's present width:
//
//   - the page must not scroll sideways (document scrollWidth at most
//     clientWidth + 1). Content inside a box that scrolls on its own
//     (overflow-x other than visible: a data table, a <pre>) is allowed
//     to be wider; everything else that sticks out of the window is named,
//     outermost first (an element sticking out whose parent does not),
//     visually hidden text too, since it widens the page all the same;
//   - no text is cut off: an element with overflow hidden or clip whose
//     content is wider than its box (scrollWidth > clientWidth + 1),
//     unless it ends in an ellipsis on purpose (text-overflow: ellipsis) or
//     is visually hidden for screen readers (a clipped box of a pixel).
//     Form controls scroll their own text and are not counted.
const reflowAudit = `(() => {
  const root = document.documentElement;
  const vw = root.clientWidth;
  const out = {viewport: window.innerWidth, client: vw, scroll: root.scrollWidth, wide: [], clipped: []};
  const name = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
    const text = (el.getAttribute('aria-label') || el.textContent || '').trim().replace(/\s+/g, ' ');
    return text ? s + ' "' + text.slice(0, 30) + '"' : s;
  };
  const tiny = el => {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return true;
    for (let e = el; e; e = e.parentElement) {
      const r = e.getBoundingClientRect();
      if (getComputedStyle(e).clipPath !== 'none' && r.width * r.height <= 4) return true;
    }
    return false;
  };
  // ownScroll: a box that scrolls or clips sideways holds el. Only the
  // boxes el is laid out in count: an absolutely positioned element leaves
  // every box up to its positioned ancestor (a visually hidden header cell
  // in a scrolling table can widen the page), a fixed one all of them.
  const ownScroll = el => {
    let pos = getComputedStyle(el).position;
    for (let e = el.parentElement; e && e !== document.body && e !== root; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (pos === 'fixed') return false;
      if (pos === 'absolute' && cs.position === 'static') continue;
      if (cs.overflowX !== 'visible') return true;
      pos = cs.position;
    }
    return false;
  };
  const out_ = r => r.right > vw + 1 ? r.right - vw : (r.left < -1 ? -r.left : 0);
  const all = Array.from(document.body.querySelectorAll('*'));
  const sticks = new Set();
  for (const el of all) {
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (out_(r) > 0 && !ownScroll(el)) sticks.add(el);
  }
  for (const el of sticks) {
    if (sticks.has(el.parentElement)) continue;
    const r = el.getBoundingClientRect();
    out.wide.push({el: name(el), width: Math.round(r.width), out: Math.round(out_(r)), side: r.right > vw + 1 ? 'right' : 'left'});
  }
  for (const el of all) {
    if (['INPUT', 'TEXTAREA', 'SELECT', 'IMG', 'VIDEO', 'CANVAS', 'IFRAME', 'SCRIPT', 'STYLE'].includes(el.tagName)) continue;
    const cs = getComputedStyle(el);
    if (!['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis') continue;
    if (el.scrollWidth <= el.clientWidth + 1 || !el.textContent.trim() || tiny(el)) continue;
    out.clipped.push({el: name(el), width: el.clientWidth, content: el.scrollWidth});
  }
  return out;
})()`

type reflowResult struct {
	Viewport float64 `json:"viewport"`
	Client   float64 `json:"client"`
	Scroll   float64 `json:"scroll"`
	Wide     []struct {
		El    string  `json:"el"`
		Width float64 `json:"width"`
		Out   float64 `json:"out"`
		Side  string  `json:"side"`
	} `json:"wide"`
	Clipped []struct {
		El      string  `json:"el"`
		Width   float64 `json:"width"`
		Content float64 `json:"content"`
	} `json:"clipped"`
}

type a11yResult struct {
	Lang      string  `json:"lang"`
	Dir       string  `json:"dir"`
	Direction string  `json:"direction"`
	H1        int     `json:"h1"`
	Main      int     `json:"main"`
	Measured  int     `json:"measured"`
	Min       float64 `json:"min"`
	MinAt     string  `json:"minAt"`
	Contrast  []struct {
		El    string  `json:"el"`
		Ratio float64 `json:"ratio"`
		Need  float64 `json:"need"`
		FG    string  `json:"fg"`
		BG    string  `json:"bg"`
		Size  float64 `json:"size"`
		Bold  bool    `json:"bold"`
	} `json:"contrast"`
	Unlabeled []string `json:"unlabeled"`
	Unnamed   []string `json:"unnamed"`
	Untied    []string `json:"untied"`
}

// focusRecord notes the element keyboard focus is on and how it looks;
// focusCompare looks at the same elements once nothing has focus and
// tells for each whether focus showed and how its outline contrasts with
// what is behind it (WCAG 1.4.11: 3:1 for what shows a state). A control
// that is visually hidden (a file input whose label is styled as its
// button) shows focus through its visible labels: one of them must
// change.
const focusRecord = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return '';
  if ((window.__focus || []).some(f => f.e === e)) return 'again';
  const r = e.getBoundingClientRect();
  const concealed = r.width * r.height <= 4 || getComputedStyle(e).clipPath !== 'none' && r.width <= 2;
  const shown = !concealed ? [e] : Array.from(e.labels || []).filter(l => { const b = l.getBoundingClientRect(); return b.width * b.height > 4 && l.checkVisibility(); });
  const look = x => { const cs = getComputedStyle(x); return {s: [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow, cs.backgroundColor, cs.color, cs.borderColor, cs.textDecorationLine].join('|'),
    outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 1 ? cs.outlineColor : ''}; };
  const inMain = !!e.closest('main');
  (window.__focus = window.__focus || []).push({e, inMain, concealed, shown: shown.map(x => Object.assign({x}, look(x)))});
  return inMain ? 'main' : 'outside';
})()`

const focusCompare = `(() => {
  const parse = s => { const m = /^rgba?\(([^)]+)\)$/.exec(s); if (!m) return null; const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const lin = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = c => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const behind = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  if (document.activeElement) document.activeElement.blur();
  return (window.__focus || []).map(f => {
    const changed = f.shown.filter(v => {
      const cs = getComputedStyle(v.x);
      return [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow, cs.backgroundColor, cs.color, cs.borderColor, cs.textDecorationLine].join('|') !== v.s;
    });
    const v = changed.find(c => c.outline) || changed[0];
    let text = (f.e.textContent || f.e.value || f.e.name || '').trim().replace(/\s+/g, ' ').slice(0, 30);
    const r = v && v.outline && parse(v.outline) ? Math.floor(ratio(parse(v.outline), behind(v.x.parentElement || v.x)) * 100) / 100 : 0;
    return {el: f.e.tagName.toLowerCase() + (f.e.id ? '#' + f.e.id : '') + (text ? ' "' + text + '"' : ''), shows: changed.length > 0, concealed: f.concealed,
      inMain: f.inMain, outlineRatio: r, outline: !!(v && v.outline)};
  });
})()`

type focusResult struct {
	El           string  `json:"el"`
	Shows        bool    `json:"shows"`
	Concealed    bool    `json:"concealed"`
	InMain       bool    `json:"inMain"`
	Outline      bool    `json:"outline"`
	OutlineRatio float64 `json:"outlineRatio"`
}

// a11yPage is a page to measure: where, the title key it must show, and
// what to do there first (a form sent with mistakes, for its errors).
type a11yPage struct {
	name, path, key string
	before          func(b *browser)
}

// narrowWidth is the width of the narrowest phone WCAG's reflow asks for
// (1.4.10: 320 CSS px, no scrolling in two directions).
const narrowWidth = 320

// audit measures the page b shows, as name in lang, at the desktop width
// newBrowser gives, and returns the failures, one line each.
func (b *browser) audit(name, lang string) (fails []string, summary string) {
	b.t.Helper()
	return b.measure(lang, name+" ("+lang+")", name)
}

// auditNarrow measures the page again in a window 320 CSS px wide, then
// gives the window its desktop size back. Its failures name the width.
func (b *browser) auditNarrow(name, lang string) (fails []string, summary string) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(narrowWidth, 900))
	defer b.do(chromedp.EmulateViewport(1280, 900))
	return b.measure(lang, fmt.Sprintf("%s (%s, %dpx)", name, lang, narrowWidth), fmt.Sprintf("%s %dpx", name, narrowWidth))
}

// measure runs every check on the page as it is now, in lang; at names the
// page, language and width in failures, label the line of the summary.
func (b *browser) measure(lang, at, label string) (fails []string, summary string) {
	b.t.Helper()
	r, err := chromedp.Run(b.ctx, chromedp.Evaluate[a11yResult](a11yAudit))
	if err != nil {
		b.t.Fatalf("%s: audit: %v", at, err)
	}
	dir := map[string]string{"fa": "rtl", "en": "ltr"}[lang]
	if r.Lang != lang || r.Dir != dir || r.Direction != dir {
		fails = append(fails, fmt.Sprintf("%s: html lang=%q dir=%q (computed %s), want %s and %s", at, r.Lang, r.Dir, r.Direction, lang, dir))
	}
	if r.H1 != 1 {
		fails = append(fails, fmt.Sprintf("%s: %d h1 elements, want one", at, r.H1))
	}
	if r.Main != 1 {
		fails = append(fails, fmt.Sprintf("%s: %d main landmarks, want one", at, r.Main))
	}
	if r.Measured == 0 {
		fails = append(fails, at+": no text measured")
	}
	for _, c := range r.Contrast {
		if c.BG == "an image" {
			fails = append(fails, fmt.Sprintf("%s: contrast of %s cannot be measured: its background is an image", at, c.El))
			continue
		}
		weight := ""
		if c.Bold {
			weight = " bold"
		}
		fails = append(fails, fmt.Sprintf("%s: contrast %.2f:1 < %.1f:1 for %s (%s on %s, %.1fpx%s)", at, c.Ratio, c.Need, c.El, c.FG, c.BG, c.Size, weight))
	}
	for _, el := range r.Unlabeled {
		fails = append(fails, fmt.Sprintf("%s: no label for %s", at, el))
	}
	for _, el := range r.Unnamed {
		fails = append(fails, fmt.Sprintf("%s: no accessible name for %s", at, el))
	}
	for _, el := range r.Untied {
		fails = append(fails, fmt.Sprintf("%s: %s is marked invalid but no error text describes it", at, el))
	}

	// Reflow: nothing wider than the window but what scrolls in its own
	// box, and no text cut off.
	flow, err := chromedp.Run(b.ctx, chromedp.Evaluate[reflowResult](reflowAudit))
	if err != nil {
		b.t.Fatalf("%s: reflow: %v", at, err)
	}
	if flow.Scroll > flow.Client+1 {
		fails = append(fails, fmt.Sprintf("%s: the page scrolls sideways: it is %.0fpx wide in a %.0fpx window", at, flow.Scroll, flow.Client))
	}
	for _, w := range flow.Wide {
		fails = append(fails, fmt.Sprintf("%s: %s is %.0fpx wide and sticks out %.0fpx past the window's %s edge", at, w.El, w.Width, w.Out, w.Side))
	}
	for _, c := range flow.Clipped {
		fails = append(fails, fmt.Sprintf("%s: text of %s is cut off: %.0fpx of content in a %.0fpx box with overflow hidden", at, c.El, c.Content, c.Width))
	}

	// Keyboard focus: through the header and into the page's main part.
	// Tab goes on from where focus last was, even after blur (a second
	// measurement of the same page would start mid-page), so focus first
	// lands on a throwaway element at the top of the page, which then goes.
	b.eval(`window.__focus = []; if (document.activeElement) document.activeElement.blur();
	  { const s = document.createElement('span'); s.tabIndex = -1; document.body.prepend(s); s.focus(); s.remove(); }
	  window.scrollTo(0, 0); true`)
	inMain := 0
	for i := 0; i < 30 && inMain < 3; i++ {
		b.do(chromedp.KeyEvent(kb.Tab))
		v := b.eval(focusRecord)
		if v == "again" {
			break // round the page and back
		}
		if v == "main" {
			inMain++
		}
	}
	focus, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]focusResult](focusCompare))
	if err != nil {
		b.t.Fatalf("%s: focus: %v", at, err)
	}
	if len(focus) == 0 {
		fails = append(fails, at+": the Tab key reaches nothing")
	}
	minFocus := 99.0
	for _, f := range focus {
		switch {
		case !f.Shows && f.Concealed:
			fails = append(fails, fmt.Sprintf("%s: focus on %s does not show: it is visually hidden and none of its visible labels changes", at, f.El))
		case !f.Shows:
			fails = append(fails, fmt.Sprintf("%s: focus on %s does not show (its outline, shadow, colours and border stay the same)", at, f.El))
		case f.Outline && f.OutlineRatio < 3:
			fails = append(fails, fmt.Sprintf("%s: focus outline of %s contrasts %.2f:1 with what is behind it, want 3:1", at, f.El, f.OutlineRatio))
		}
		if f.Outline && f.OutlineRatio < minFocus {
			minFocus = f.OutlineRatio
		}
	}
	summary = fmt.Sprintf("%-34s %s  %4.0fpx wide in %4.0fpx; %3d texts, lowest %5.2f:1 (%s); %2d focus stops, lowest outline %.2f:1",
		label, lang, flow.Scroll, flow.Client, r.Measured, r.Min, r.MinAt, len(focus), minFocus)
	return fails, summary
}

// The audit must be able to fail: a page with each fault it looks for
// fails with that fault named, and a page without them passes.
const (
	a11yGoodPage = `<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8"><title>good</title>
<style>body{background:#fff;color:#222} .big{font-size:24px;color:#949494} .hide{position:absolute;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%);color:#eee}
:focus-visible{outline:3px solid #1d4ed8} .pick{display:inline-block;border:1px solid #1d4ed8;padding:4px} #gf:focus-visible+.pick{outline:3px solid #1d4ed8}</style></head>
<body data-page="good"><header><a href="#main">Skip</a></header><main id="main"><h1>Good</h1>
<p class="big">Large grey text passes at 3:1</p><p class="hide">hidden text is not measured</p>
<form><label for="gf">Files</label><input type="file" id="gf" class="hide"><label for="gf" class="pick">Choose</label>
<label for="q">Question</label><input id="q" name="q" aria-invalid="true" aria-describedby="q-error"><p id="q-error">Say more.</p>
<label><input type="checkbox" name="c"> Wrapped</label><button type="button">Send</button></form></main></body></html>`
	a11yBadPage = `<!doctype html><html lang="fa"><head><meta charset="utf-8"><title>bad</title>
<style>body{background:#fff;color:#222} .grey{color:#999} .pale{color:rgba(0,0,0,0.3)} .dark{background:#333;color:#555} button:focus{outline:none}
.bar{background:#102a43} .bar a{color:#fff} .bar a:focus-visible{outline:3px solid #1d4ed8}</style></head>
<body data-page="bad"><div class="bar"><a href="/x">Home</a></div><h1>One</h1><h1>Two</h1>
<p class="grey">grey text</p><p class="pale">pale text</p><p class="dark">dark on dark</p>
<input name="nolabel"><input name="bad" aria-invalid="true"><a href="/y"></a><button type="button">Quiet focus</button>
<input type="file" id="bf" style="position:absolute;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%)"><label for="bf">Pick files</label></body></html>`
	// a11yNarrowPage passes everything but reflow: at 320px a fixed-width
	// banner sticks out (to the left, as the page is right-to-left), and so
	// does visually hidden text in a scrolling table that is not positioned
	// (absolutely positioned, it escapes the box); a box with overflow
	// hidden cuts its text off at any width. A wide table in a positioned
	// box that scrolls on its own, a <pre> that scrolls, a deliberate
	// ellipsis and visually hidden text are allowed.
	a11yNarrowPage = `<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>narrow</title>
<style>body{margin:0;background:#fff;color:#222} :focus-visible{outline:3px solid #1d4ed8} main{padding:0 8px}
.wide{inline-size:600px} .clip{inline-size:10rem;overflow:hidden;white-space:nowrap}
.scroll{overflow-x:auto} .held{position:relative} .scroll table{inline-size:900px} pre{overflow-x:auto}
.dots{inline-size:10rem;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.hide{position:absolute;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}</style></head>
<body data-page="narrow"><main id="main"><h1>باریک</h1><a href="#x">پیوند</a>
<div class="wide" id="banner">نواری با پهنای ثابت ششصد پیکسل</div>
<p class="clip">این متن بلند در جعبه‌ای با سرریز پنهان بریده می‌شود و خواننده پایانش را نمی‌بیند</p>
<div class="scroll held"><table><tr><th>ستون</th><td>جدولی پهن که در جعبهٔ خودش می‌لغزد</td><td><span class="hide">کارها</span></td></tr></table></div>
<div class="scroll"><table><tr><th>ستون</th><td>همان جدول، بی جای نگه‌داشتن</td><td><span class="hide" id="escapes">کارها</span></td></tr></table></div>
<pre>a-very-long-line-of-code-that-scrolls-in-its-own-box-and-not-the-page-aaaaaaaaaaaaaaaaaaaaaaaaaaaa</pre>
<p class="dots">سه نقطهٔ عمدی در پایان این متن بلند که جا نمی‌شود</p><p class="hide">متن پنهان برای صفحه‌خوان، بسیار بلندتر از یک پیکسل</p>
<button type="button">بفرست</button></main></body></html>`
)

func TestBrowserAccessibilityAuditFindsEachFault(t *testing.T) {
	browserCtx := sharedChromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/good":
			fmt.Fprint(w, a11yGoodPage)
		case "/narrow":
			fmt.Fprint(w, a11yNarrowPage)
		default:
			fmt.Fprint(w, a11yBadPage)
		}
	}))
	t.Cleanup(srv.Close)
	b := newBrowser(t, browserCtx, srv.URL, "")

	b.open("/good", "good")
	if fails, summary := b.audit("good", "en"); len(fails) > 0 {
		t.Errorf("a page without faults fails:\n%s\n%s", strings.Join(fails, "\n"), summary)
	}
	if fails, summary := b.auditNarrow("good", "en"); len(fails) > 0 {
		t.Errorf("a page without faults fails at 320px:\n%s\n%s", strings.Join(fails, "\n"), summary)
	}

	// Reflow: the banner fits a desktop window and sticks out of a phone's;
	// the clipped text is cut off at both widths. Nothing else fails.
	b.open("/narrow", "narrow")
	wide, _ := b.audit("narrow", "fa")
	if want := []string{
		`narrow (fa): text of p.clip "این متن بلند در جعبه‌ای با سرر" is cut off: `,
	}; !sameFailures(wide, want) {
		t.Errorf("at the desktop width the audit found:\n%s\nwant lines starting:\n%s", strings.Join(wide, "\n"), strings.Join(want, "\n"))
	}
	narrow, _ := b.auditNarrow("narrow", "fa")
	if want := []string{
		`narrow (fa, 320px): the page scrolls sideways: it is `,
		`narrow (fa, 320px): div#banner.wide "نواری با پهنای ثابت ششصد پیکسل" is 600px wide and sticks out 288px past the window's left edge`,
		`narrow (fa, 320px): span#escapes.hide "کارها" is 1px wide and sticks out `,
		`narrow (fa, 320px): text of p.clip "این متن بلند در جعبه‌ای با سرر" is cut off: `,
	}; !sameFailures(narrow, want) {
		t.Errorf("at 320px the audit found:\n%s\nwant lines starting:\n%s", strings.Join(narrow, "\n"), strings.Join(want, "\n"))
	}
	if w := b.eval(`window.innerWidth`); w != float64(1280) {
		t.Errorf("the window stays %vpx wide after the narrow audit", w)
	}

	b.open("/bad", "bad")
	fails, _ := b.audit("bad", "fa")
	all := strings.Join(fails, "\n")
	for _, want := range []string{
		`bad (fa): html lang="fa" dir="" (computed ltr), want fa and rtl`,
		`bad (fa): 2 h1 elements, want one`,
		`bad (fa): 0 main landmarks, want one`,
		`contrast 2.84:1 < 4.5:1 for p.grey "grey text" (#999999 on #ffffff`,
		`contrast 2.10:1 < 4.5:1 for p.pale "pale text" (#b3b3b3 on #ffffff`,
		`for p.dark "dark on dark" (#555555 on #333333`,
		`no label for input "nolabel"`,
		`no accessible name for a`,
		`input "bad" is marked invalid but no error text describes it`,
		`focus on button "Quiet focus" does not show`,
		`focus on input#bf does not show: it is visually hidden and none of its visible labels changes`,
		`focus outline of a "Home" contrasts 2.18:1 with what is behind it, want 3:1`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit missed: %s\nit found:\n%s", want, all)
		}
	}
	if strings.Contains(all, "Large grey") || strings.Contains(all, "hidden text") {
		t.Errorf("the audit failed large or hidden text:\n%s", all)
	}
}

// sameFailures reports whether each failure starts with the wanted line
// of the same place, and there are as many.
func sameFailures(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			return false
		}
	}
	return true
}
