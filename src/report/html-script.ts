/**
 * The report page's drawing code: plain browser JS, inlined into report.html (no library, no
 * network). It reads the plot specs from the JSON block, draws each `figure[data-plot]` as SVG
 * and redraws on resize. Every string from the data goes through textContent, never innerHTML.
 * Kept as a string (no backticks, no template placeholders inside) because it runs in the browser,
 * not in Node.
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var NAMED = { sent: 'var(--c-sent)', acked: 'var(--c-acked)', p50: 'var(--c-p50)', p95: 'var(--c-p95)', p99: 'var(--c-p99)',
    bound: 'var(--c-bad)', online: 'var(--c-acked)', provisioned: 'var(--c-sent)', 'whole run': 'var(--c-sent)', failures: 'var(--c-bad)' };
  var data = JSON.parse(document.getElementById('fleetsim-plots').textContent);
  var byId = {};
  data.plots.forEach(function (p) { byId[p.id] = p; });

  function num(v, digits) {
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
    if (a >= 100 || v === Math.round(v)) return String(Math.round(v));
    return v.toFixed(digits === undefined ? (a >= 10 ? 1 : 2) : digits);
  }
  function micros(us) {
    if (us === 0) return '0';
    if (us < 1000) return Math.round(us) + 'µs';
    if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1).replace(/\.0+$/, '') + 'ms';
    return (us / 1e6).toFixed(2).replace(/\.?0+$/, '') + 's';
  }
  function duration(ms) {
    if (ms > 0 && ms < 1000) return (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) + 'ms';
    var s = ms / 1000;
    if (s < 120) return (Math.round(s * 10) / 10) + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 >= 1 ? String(Math.round(s % 60)).padStart(2, '0') + 's' : '');
    if (s < 3 * 86400) return (Math.round(s / 360) / 10) + 'h';
    return (Math.round(s / 8640) / 10) + 'd';
  }
  function bytes(v) {
    var units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return (i === 0 || Math.abs(v) >= 100 || v === Math.round(v) ? String(Math.round(v)) : v.toFixed(1)) + ' ' + units[i];
  }
  function fmt(unit, v) {
    switch (unit) {
      case 'bytes': return bytes(v);
      case 'joules': return Math.abs(v) >= 1e6 ? num(v / 1e6, 1) + ' MJ' : Math.abs(v) >= 1000 ? num(v / 1000, 1) + ' kJ' : num(v, 1) + ' J';
      case 'us': return micros(v);
      case 'ms': return num(v, 1) + 'ms';
      case 'rate': return num(v) + '/s';
      case 'share': return (v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0) + '%';
      case 'days': return v >= 730 ? (v / 365).toFixed(1) + 'y' : num(v, 0) + 'd';
      case 'percentile': return nines(v);
      default: return num(v);
    }
  }
  function nines(x) {
    var k = Math.round(x);
    if (Math.abs(x - k) > 1e-6) return (100 * (1 - Math.pow(10, -x))).toPrecision(6).replace(/0+$/, '') + '%';
    if (k <= 0) return '0%';
    if (k === 1) return '90%';
    return '99' + (k > 2 ? '.' + '9'.repeat(k - 2) : '') + '%';
  }
  function xLabel(spec, v) {
    if (spec.x.kind === 'time') return duration(v);
    if (spec.x.kind === 'category') return (spec.x.categories || [])[v] || '';
    if (spec.x.kind === 'nines') return spec.x.maxAt !== undefined && Math.abs(v - spec.x.maxAt) < 1e-9 ? 'max' : nines(v);
    return fmt(spec.x.unit, v);
  }
  function niceStep(span, count) {
    var raw = span / Math.max(1, count);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var n = raw / mag;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
  }
  var TIME_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 15552000, 31536000]
    .map(function (s) { return s * 1000; });
  function ticks(axis, lo, hi, count, unit) {
    var out = [], step, v;
    if (axis === 'nines') { for (v = Math.ceil(lo); v <= hi + 1e-9; v++) out.push(v); return out; }
    if (unit === 'days' && hi - lo > 730) step = niceStep((hi - lo) / 365, count) * 365;
    else if (axis === 'time') {
      step = TIME_STEPS[TIME_STEPS.length - 1];
      for (var i = 0; i < TIME_STEPS.length; i++) if ((hi - lo) / TIME_STEPS[i] <= count) { step = TIME_STEPS[i]; break; }
    } else step = niceStep(hi - lo, count);
    for (v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function colour(s, i) { return NAMED[s.name] || 'var(--s' + (i % 8) + ')'; }
  function seriesColour(spec, name) {
    for (var i = 0; i < spec.series.length; i++) if (spec.series[i].name === name) return colour(spec.series[i], i);
    return 'var(--muted)';
  }

  // The tooltip: a head line and one line per series, beside x (SVG units) inside the figure.
  function showTip(fig, svg, W, x, head, rows) {
    var tip = fig.querySelector('.tip'), r = svg.getBoundingClientRect();
    tip.textContent = '';
    var h = document.createElement('div');
    h.className = 'tip-head';
    h.textContent = head;
    tip.appendChild(h);
    rows.forEach(function (row) {
      var line = document.createElement('div');
      var sw = document.createElement('i');
      sw.style.background = row[0];
      line.appendChild(sw);
      line.appendChild(document.createTextNode(row[1]));
      tip.appendChild(line);
    });
    tip.hidden = false;
    var left = (x / W) * r.width;
    tip.style.left = Math.min(Math.max(0, left + 12), r.width - tip.offsetWidth - 4) + 'px';
    tip.style.top = '8px';
  }

  // Dashed vertical markers (time to 50%, p99 ...) with a haloed label, staggered so close
  // markers stay readable; a marker of a hidden series is hidden with it.
  function drawMarkers(svg, spec, hidden, sx, x0, x1, top, bottom, W) {
    (spec.markers || []).forEach(function (mk, k) {
      if (mk.x < x0 || mk.x > x1 || (mk.series && hidden[mk.series])) return;
      var c = mk.series ? seriesColour(spec, mk.series) : 'var(--muted)', x = sx(mk.x);
      el('line', { x1: x, x2: x, y1: top, y2: bottom, 'class': 'marker' }, svg).style.stroke = c;
      var right = x > W - 70;
      var t = el('text', { x: right ? x - 4 : x + 4, y: top + 11 + (k % 4) * 13, 'text-anchor': right ? 'end' : 'start', 'class': 'marker-label' }, svg);
      t.textContent = mk.label;
      t.style.fill = c;
    });
  }

  // Horizontal bars, one row per category and one bar per series in it (failures by cause,
  // energy per profile ...): long category names read better down the side than under bars.
  function drawBars(fig, spec, hidden) {
    var host = fig.querySelector('.plot');
    host.textContent = '';
    var cats = spec.x.categories || [];
    var shown = spec.series.filter(function (s) { return !hidden[s.name]; });
    var W = Math.max(280, host.clientWidth || 640);
    var per = Math.max(1, shown.length), barH = per > 2 ? 11 : 18, rowH = per * barH + 12;
    var H = cats.length * rowH + 32;
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-label': spec.title + ': ' + spec.subtitle });
    host.appendChild(svg);
    // Category names go down the left: measured in place (same font), ellipsised past 40% of the width.
    var probe = el('text', { 'class': 'cat' }, svg), widest = 0;
    // (A page not laid out yet measures 0: estimate from the length instead.)
    var width = function (t) { probe.textContent = t; return probe.getComputedTextLength() || t.length * 6.6; };
    cats.forEach(function (c) { widest = Math.max(widest, width(c)); });
    var m = { l: Math.min(Math.round(W * 0.4), Math.ceil(widest) + 18), r: 62, t: 4, b: 28 };
    var fit = function (c) {
      if (width(c) <= m.l - 14) return c;
      var n = c.length;
      while (n > 1 && width(c.slice(0, n) + '…') > m.l - 14) n--;
      return c.slice(0, n) + '…';
    };
    var vmax = spec.y.unit === 'share' ? 1 : 0;
    shown.forEach(function (s) { s.points.forEach(function (p) { if (p[1] > vmax) vmax = p[1]; }); });
    if (!(vmax > 0)) vmax = 1;
    var step = niceStep(vmax, Math.max(2, Math.floor((W - m.l - m.r) / 100)));
    var v1 = Math.ceil(vmax / step - 1e-9) * step;
    var sx = function (v) { return m.l + v / v1 * (W - m.l - m.r); };
    var grid = el('g', { 'class': 'grid' }, svg);
    ticks('linear', 0, v1, Math.round(v1 / step)).forEach(function (v) {
      el('line', { x1: sx(v), x2: sx(v), y1: m.t, y2: H - m.b, 'class': 'v' }, grid);
      el('text', { x: sx(v), y: H - m.b + 18, 'text-anchor': 'middle' }, grid).textContent = fmt(spec.y.unit, v);
    });
    cats.forEach(function (c, i) {
      var label = el('text', { x: m.l - 8, y: m.t + i * rowH + rowH / 2 + 4, 'text-anchor': 'end', 'class': 'cat' }, svg);
      label.textContent = fit(c);
      el('title', {}, label).textContent = c;
    });
    shown.forEach(function (s, j) {
      var c = colour(s, spec.series.indexOf(s));
      s.points.forEach(function (p) {
        var y = m.t + p[0] * rowH + 6 + j * barH;
        var bar = el('rect', { x: m.l, y: y, width: Math.max(1, sx(p[1]) - m.l), height: barH - 2, rx: 2, 'class': 'bar' }, svg);
        bar.style.fill = c;
        el('text', { x: sx(p[1]) + 5, y: y + barH / 2 + 2.5, 'class': 'val' }, svg).textContent = fmt(spec.y.unit, p[1]);
      });
    });
    svg.removeChild(probe);
    el('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, 'class': 'axis' }, svg);
    var hit = el('rect', { x: 0, y: m.t, width: W, height: H - m.t - m.b, 'class': 'hit' }, svg);
    var tip = fig.querySelector('.tip');
    hit.addEventListener('mouseleave', function () { tip.hidden = true; });
    hit.addEventListener('mousemove', function (ev) {
      var r = svg.getBoundingClientRect();
      var i = Math.floor(((ev.clientY - r.top) * (H / r.height) - m.t) / rowH);
      if (i < 0 || i >= cats.length) { tip.hidden = true; return; }
      var rows = [];
      shown.forEach(function (s) {
        s.points.forEach(function (p) { if (p[0] === i) rows.push([colour(s, spec.series.indexOf(s)), s.name + ': ' + fmt(spec.y.unit, p[1])]); });
      });
      showTip(fig, svg, W, m.l, cats[i], rows);
    });
  }

  function draw(fig, spec, hidden) {
    if (spec.mark === 'bars') return drawBars(fig, spec, hidden);
    var host = fig.querySelector('.plot');
    host.textContent = '';
    var W = Math.max(280, host.clientWidth || 640), H = Math.round(Math.min(300, Math.max(200, W * 0.42)));
    var m = { l: 62, r: 14, t: 10, b: 34 };
    var shown = spec.series.filter(function (s) { return !hidden[s.name]; });
    var all = [];
    shown.forEach(function (s) { s.points.forEach(function (p) { all.push(p); }); });
    if (all.length === 0) all = [[0, 0], [1, 1]];
    var xs = all.map(function (p) { return p[0]; }), ys = all.map(function (p) { return p[1]; });
    var x0 = spec.x.min !== undefined ? Math.min(spec.x.min, Math.min.apply(null, xs)) : Math.min.apply(null, xs);
    var x1 = spec.x.max !== undefined ? Math.max(spec.x.max, Math.max.apply(null, xs)) : Math.max.apply(null, xs);
    if (x1 <= x0) x1 = x0 + 1;
    var yMax = Math.max.apply(null, ys);
    if (spec.y.unit === 'share') yMax = Math.max(yMax, 1);
    if (!(yMax > 0)) yMax = 1;
    var yStep = niceStep(yMax, 4);
    var y1 = Math.ceil(yMax / yStep - 1e-9) * yStep;
    var yTicks = ticks('linear', 0, y1, Math.round(y1 / yStep));
    var sx = function (v) { return m.l + (v - x0) / (x1 - x0) * (W - m.l - m.r); };
    var sy = function (v) { return H - m.b - v / y1 * (H - m.t - m.b); };
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-label': spec.title + ': ' + spec.subtitle });
    var grid = el('g', { 'class': 'grid' }, svg);
    yTicks.forEach(function (v) {
      el('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v) }, grid);
      el('text', { x: m.l - 8, y: sy(v) + 4, 'text-anchor': 'end' }, grid).textContent = fmt(spec.y.unit, v);
    });
    ticks(spec.x.kind, x0, x1, Math.max(3, Math.floor(W / 110)), spec.x.unit).forEach(function (v) {
      el('line', { x1: sx(v), x2: sx(v), y1: m.t, y2: H - m.b, 'class': 'v' }, grid);
      el('text', { x: sx(v), y: H - m.b + 18, 'text-anchor': 'middle' }, grid).textContent = xLabel(spec, v);
    });
    el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, 'class': 'axis' }, svg);
    spec.series.forEach(function (s, i) {
      if (hidden[s.name] || s.points.length === 0) return;
      var c = colour(s, i);
      if (spec.mark === 'histogram') {
        var half = spec.binWidth / 2;
        s.points.forEach(function (p) {
          if (p[1] <= 0) return;
          var bx = sx(p[0] - half), bw = Math.max(1, sx(p[0] + half) - bx - 1);
          el('rect', { x: bx + 0.5, y: sy(p[1]), width: bw, height: sy(0) - sy(p[1]), 'class': 'bar' }, svg).style.fill = c;
        });
        return;
      }
      var d = s.points.map(function (p, j) { return (j ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1); }).join('');
      if (spec.area && i === 0 && s.points.length > 1) {
        var a = el('path', { d: d + 'L' + sx(s.points[s.points.length - 1][0]).toFixed(1) + ' ' + sy(0) + 'L' + sx(s.points[0][0]).toFixed(1) + ' ' + sy(0) + 'Z', 'class': 'area' }, svg);
        a.style.fill = c;
      }
      var line = el('path', { d: d, 'class': s.reference ? 'line ref' : 'line', 'data-series': s.name }, svg);
      line.style.stroke = c;
      if (s.points.length <= 32 && !s.reference) s.points.forEach(function (p) {
        var dot = el('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, 'class': 'dot' }, svg);
        dot.style.fill = c;
      });
    });
    drawMarkers(svg, spec, hidden, sx, x0, x1, m.t, H - m.b, W);
    var cross = el('line', { y1: m.t, y2: H - m.b, 'class': 'cross' }, svg);
    var hit = el('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, 'class': 'hit' }, svg);
    host.appendChild(svg);
    var tip = fig.querySelector('.tip');
    hit.addEventListener('mouseleave', function () { tip.hidden = true; cross.style.display = 'none'; });
    hit.addEventListener('mousemove', function (ev) {
      var r = svg.getBoundingClientRect();
      var xv = x0 + ((ev.clientX - r.left) * (W / r.width) - m.l) / (W - m.l - m.r) * (x1 - x0);
      var rows = [], at = null;
      shown.forEach(function (s) {
        if (s.reference || s.points.length === 0) return;
        var best = s.points[0];
        s.points.forEach(function (p) { if (Math.abs(p[0] - xv) < Math.abs(best[0] - xv)) best = p; });
        if (at === null) at = best[0];
        rows.push([s, best]);
      });
      if (at === null) return;
      cross.setAttribute('x1', sx(at)); cross.setAttribute('x2', sx(at)); cross.style.display = 'block';
      var head = spec.mark === 'histogram' ? xLabel(spec, at - spec.binWidth / 2) + ' – ' + xLabel(spec, at + spec.binWidth / 2) : xLabel(spec, at);
      showTip(fig, svg, W, sx(at), head, rows.map(function (row) {
        return [colour(row[0], spec.series.indexOf(row[0])), row[0].name + ': ' + fmt(spec.y.unit, row[1][1])];
      }));
    });
  }

  function legend(fig, spec, hidden, redraw) {
    var box = fig.querySelector('.legend');
    box.textContent = '';
    // A lone series of bars needs no key: the title says what the bars are.
    if (spec.mark && spec.mark !== 'line' && spec.series.length === 1) return;
    spec.series.forEach(function (s, i) {
      if (s.points.length === 0) return;
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'key' + (s.reference ? ' ref' : '') + (hidden[s.name] ? ' off' : '');
      var sw = document.createElement('i');
      sw.style.background = colour(s, i);
      b.appendChild(sw);
      b.appendChild(document.createTextNode(s.name));
      b.setAttribute('aria-pressed', hidden[s.name] ? 'false' : 'true');
      b.addEventListener('click', function () { hidden[s.name] = !hidden[s.name]; legend(fig, spec, hidden, redraw); redraw(); });
      box.appendChild(b);
    });
  }

  var redraws = [];
  Array.prototype.forEach.call(document.querySelectorAll('figure[data-plot]'), function (fig) {
    var spec = byId[fig.getAttribute('data-plot')];
    if (!spec) return;
    var hidden = {};
    var redraw = function () { draw(fig, spec, hidden); };
    legend(fig, spec, hidden, redraw);
    redraw();
    redraws.push(redraw);
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { redraws.forEach(function (f) { f(); }); });
  });
})();
`;
