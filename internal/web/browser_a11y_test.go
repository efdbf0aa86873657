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
// what is behind it (WCAG 1.4.11: 3:1 for what shows a state).
const focusRecord = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return '';
  if ((window.__focus || []).some(f => f.e === e)) return 'again';
  const cs = getComputedStyle(e);
  const inMain = !!e.closest('main');
  (window.__focus = window.__focus || []).push({e, inMain, s: [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow, cs.backgroundColor, cs.color, cs.borderColor, cs.textDecorationLine].join('|'),
    outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 1 ? cs.outlineColor : ''});
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
    const cs = getComputedStyle(f.e);
    const now = [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow, cs.backgroundColor, cs.color, cs.borderColor, cs.textDecorationLine].join('|');
    let text = (f.e.textContent || f.e.value || f.e.name || '').trim().replace(/\s+/g, ' ').slice(0, 30);
    const r = f.outline && parse(f.outline) ? Math.floor(ratio(parse(f.outline), behind(f.e.parentElement || f.e)) * 100) / 100 : 0;
    return {el: f.e.tagName.toLowerCase() + (f.e.id ? '#' + f.e.id : '') + (text ? ' "' + text + '"' : ''), shows: now !== f.s, inMain: f.inMain, outlineRatio: r, outline: !!f.outline};
  });
})()`

type focusResult struct {
	El           string  `json:"el"`
	Shows        bool    `json:"shows"`
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

// audit measures the page b shows, as name in lang, and returns the
// failures, one line each.
func (b *browser) audit(name, lang string) (fails []string, summary string) {
	b.t.Helper()
	at := name + " (" + lang + ")"
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

	// Keyboard focus: through the header and into the page's main part.
	b.eval(`window.__focus = []; if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); true`)
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
		case !f.Shows:
			fails = append(fails, fmt.Sprintf("%s: focus on %s does not show (its outline, shadow, colours and border stay the same)", at, f.El))
		case f.Outline && f.OutlineRatio < 3:
			fails = append(fails, fmt.Sprintf("%s: focus outline of %s contrasts %.2f:1 with what is behind it, want 3:1", at, f.El, f.OutlineRatio))
		}
		if f.Outline && f.OutlineRatio < minFocus {
			minFocus = f.OutlineRatio
		}
	}
	summary = fmt.Sprintf("%-28s %s  %3d texts, lowest %5.2f:1 (%s); %2d focus stops, lowest outline %.2f:1",
		name, lang, r.Measured, r.Min, r.MinAt, len(focus), minFocus)
	return fails, summary
}

// The audit must be able to fail: a page with each fault it looks for
// fails with that fault named, and a page without them passes.
const (
	a11yGoodPage = `<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8"><title>good</title>
<style>body{background:#fff;color:#222} .big{font-size:24px;color:#949494} .hide{position:absolute;inline-size:1px;block-size:1px;overflow:hidden;clip-path:inset(50%);color:#eee}
:focus-visible{outline:3px solid #1d4ed8}</style></head>
<body data-page="good"><header><a href="#main">Skip</a></header><main id="main"><h1>Good</h1>
<p class="big">Large grey text passes at 3:1</p><p class="hide">hidden text is not measured</p>
<form><label for="q">Question</label><input id="q" name="q" aria-invalid="true" aria-describedby="q-error"><p id="q-error">Say more.</p>
<label><input type="checkbox" name="c"> Wrapped</label><button type="button">Send</button></form></main></body></html>`
	a11yBadPage = `<!doctype html><html lang="fa"><head><meta charset="utf-8"><title>bad</title>
<style>body{background:#fff;color:#222} .grey{color:#999} .pale{color:rgba(0,0,0,0.3)} .dark{background:#333;color:#555} button:focus{outline:none}
.bar{background:#102a43} .bar a{color:#fff} .bar a:focus-visible{outline:3px solid #1d4ed8}</style></head>
<body data-page="bad"><div class="bar"><a href="/x">Home</a></div><h1>One</h1><h1>Two</h1>
<p class="grey">grey text</p><p class="pale">pale text</p><p class="dark">dark on dark</p>
<input name="nolabel"><input name="bad" aria-invalid="true"><a href="/y"></a><button type="button">Quiet focus</button></body></html>`
)

func TestBrowserAccessibilityAuditFindsEachFault(t *testing.T) {
	browserCtx := sharedChromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/good" {
			fmt.Fprint(w, a11yGoodPage)
			return
		}
		fmt.Fprint(w, a11yBadPage)
	}))
	t.Cleanup(srv.Close)
	b := newBrowser(t, browserCtx, srv.URL, "")

	b.open("/good", "good")
	if fails, summary := b.audit("good", "en"); len(fails) > 0 {
		t.Errorf("a page without faults fails:\n%s\n%s", strings.Join(fails, "\n"), summary)
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
